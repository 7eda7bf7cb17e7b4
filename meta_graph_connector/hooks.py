def post_init_hook(env):
    """Generate the webhook verify token so the settings page shows one at once."""
    env["meta.app"]._meta_ensure_verify_token()
