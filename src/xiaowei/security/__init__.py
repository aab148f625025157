"""Protection of personal data at rest: encryption and blind indexes.

Kept apart from the store so that loaders can compute a blind index, and tools can decrypt,
without pulling in a database. Masking for display lives in :mod:`xiaowei.entities.masking`.
"""

from xiaowei.security.pii import PiiError, blind_index, decrypt, encrypt

__all__ = ["PiiError", "blind_index", "decrypt", "encrypt"]
