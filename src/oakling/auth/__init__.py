"""Authentication and authorization: users, groups, permissions, login, tokens.

Install with ``pip install 'oakling[auth]'`` (argon2-cffi). ``import oakling``
never loads this package.
"""

from __future__ import annotations
