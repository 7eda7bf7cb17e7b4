from . import meta_lead_report
from . import meta_app_review
