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

from odoo.tests import BaseCase, tagged

_CRM_TEST_MODULES = tuple(
    importlib.import_module(f"odoo.addons.crm.tests.{name}")
    for name in (
        "test_crm_activity",
        "test_crm_lead",
        "test_crm_lead_assignment",
        "test_crm_lead_convert",
        "test_crm_lead_convert_mass",
        "test_crm_lead_duplicates",
        "test_crm_lead_lost",
        "test_crm_lead_merge",
        "test_crm_lead_multicompany",
        "test_crm_lead_notification",
        "test_crm_lead_smart_calendar",
        "test_crm_pls",
        "test_crm_ui",
        "test_digest",
        "test_performances",
    )
)


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
