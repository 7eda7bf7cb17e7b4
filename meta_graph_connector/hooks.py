def post_init_hook(env):
    """Generate the webhook verify token so the settings page shows one at
    once; name the UTM mediums in the company's language; name the CRM
    stages' conversion events."""
    env["meta.app"]._meta_ensure_verify_token()
    env["meta.lead.mapper"]._meta_name_mediums()
    env["crm.stage"]._meta_default_conversion_events()
