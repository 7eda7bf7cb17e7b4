from . import meta_account_connect
