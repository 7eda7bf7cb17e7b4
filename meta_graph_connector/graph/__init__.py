"""Framework-free Meta core: everything that knows Meta's protocol.

This package never imports ``odoo`` and uses relative imports only, so it is
importable and testable on its own (``tests/`` at the repository root).
"""
