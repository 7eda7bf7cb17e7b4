from . import discuss
from . import main
from . import oauth
from . import portal
