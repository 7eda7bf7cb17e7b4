from . import meta_connect_wizard
from . import meta_consent_wizard
from . import meta_social_reply
