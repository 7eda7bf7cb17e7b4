"""Odoo's own crm tests, run again with this addon installed and loaded.

crm's at-install tests run when crm is installed, before any addon that
depends on it is loaded: they cannot see what this addon changes in crm
(merge, assignment, messages, activities, partners' phone keys). Here crm's
tests (its query-count promises and browser tours included) run once
more, after every module is loaded, to prove this addon changes nothing crm
promises.
"""

import importlib
import inspect
import pkgutil

from odoo.tests import BaseCase, tagged


def _crm_test_modules():
    """Every test module of the running series' crm (19.0 dropped
    ``test_crm_lead_lost`` and added others): the list is crm's own."""
    package = importlib.import_module("odoo.addons.crm.tests")
    return tuple(
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name)
        if info.name.startswith("test_")
    )


_CRM_TEST_MODULES = _crm_test_modules()


def _test_classes(module):
    for name, cls in vars(module).items():
        if (
            inspect.isclass(cls)
            and issubclass(cls, BaseCase)
            and cls.__module__ == module.__name__
            and any(attr.startswith("test") for attr in dir(cls))
        ):
            yield name, cls


for _module in _CRM_TEST_MODULES:
    # two crm files each have a TestLeadConvert and a TestCRMLead: the file
    # is part of the name, or one class would replace the other here
    _file = _module.__name__.rsplit(".", 1)[1].removeprefix("test_")
    for _name, _cls in _test_classes(_module):
        _again = type(
            f"CrmWithMeta_{_file}_{_name}",
            (_cls,),
            # Odoo's loader takes a class's own test methods unless told
            {"__module__": __name__, "allow_inherited_tests_method": True},
        )
        globals()[_again.__name__] = tagged(
            "post_install", "-at_install", "crm_with_meta"
        )(_again)
