"""Report building blocks shared by every page the platform writes (foundation level).

Why a package of its own: model validation, monitoring, data quality and strategy back-tests
all print charts into self-contained HTML for offline intranets; the primitives here know no
business words, depend on nothing but the standard library, and any layer may import them.
"""
