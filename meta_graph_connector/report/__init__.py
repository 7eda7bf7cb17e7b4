from . import meta_lead_report
