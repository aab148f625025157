"""The generic engine: tags, strategies, workflow and models, with no lending words.

Why a separate layer: the four business domains (origination, post-loan, customer operations,
staff management) all run the same loop — data, tags, strategy, tasks — and differ only in their
definitions. Everything here takes those definitions as data (a catalogue, a strategy file) and
knows nothing of loans, parties or managers; a domain never has to be imported to test it.
"""
