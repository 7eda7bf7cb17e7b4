"""Graph endpoints by domain; importing this package registers them all.

Later domains (messaging, comments, custom audiences, conversions) add a
module here and import it below.
"""

from . import (  # noqa: F401  (registration side effects)
    audiences,
    auth,
    batch,
    business,
    comments,
    conversions,
    inbox,
    leads,
    pages,
)
