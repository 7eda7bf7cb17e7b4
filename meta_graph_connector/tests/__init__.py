from . import test_webhook_controller
from . import test_event_processing
from . import test_meta_account
from . import test_security
from . import test_views
from . import test_lead_ads
from . import test_lead_sync
