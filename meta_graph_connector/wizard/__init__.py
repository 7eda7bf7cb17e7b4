from . import meta_connect_wizard
