"""What differs between the Odoo series the addon runs on, in one place.

Everything else of the addon is written once, for every series. Each
supported series has a module here (``odoo18``, ``odoo19``) giving the same
names; the running Odoo picks its own at import. A new series is one more
module, and the README's list of what differs.
"""

from odoo.release import version_info

if version_info[0] >= 19:
    from .odoo19 import *  # noqa: F403
    from .odoo19 import __all__
else:
    from .odoo18 import *  # noqa: F403
    from .odoo18 import __all__

SERIES = f"{version_info[0]}.{version_info[1]}"
