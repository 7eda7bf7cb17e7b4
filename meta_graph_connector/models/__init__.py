from . import res_config_settings
from . import meta_account
from . import meta_webhook_event
