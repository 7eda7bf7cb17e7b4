from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_open
from odoo.tools.translate import PoFileReader, TranslationModuleReader

ADDON = "meta_graph_connector"


@tagged("post_install", "-at_install")
class TestTurkish(TransactionCase):
    """Everything a user of the addon reads exists in Turkish."""

    def test_every_term_of_the_addon_has_its_turkish(self):
        # the terms Odoo itself would export for the addon: fields, views,
        # menus, selections, data and the strings of the Python code
        # a file Odoo cannot read (an f-string among a _() call's arguments)
        # is skipped with an ERROR: its terms would go unchecked
        with self.assertNoLogs("odoo.tools.translate", level="ERROR"):
            reader = TranslationModuleReader(self.env.cr, modules=[ADDON])
            terms = {
                source for module, *_rest, source, _v, _c in reader if module == ADDON
            }
        self.assertGreater(len(terms), 300)
        with file_open(f"{ADDON}/i18n/tr.po", "rb") as po_file:
            turkish = {e["src"] for e in PoFileReader(po_file) if e["value"]}
        missing = sorted(terms - turkish)
        self.assertFalse(
            missing, f"{len(missing)} terms have no Turkish in tr.po: {missing[:10]}"
        )

    def test_utm_mediums_are_named_in_the_companys_language(self):
        # Odoo does not translate a medium's name: it is given once, at
        # install, in the main company's language
        self.env["res.lang"]._activate_lang("tr_TR")
        self.env.ref("base.main_company").partner_id.lang = "tr_TR"
        paid = self.env.ref("meta_graph_connector.utm_medium_paid_social")
        organic = self.env.ref("meta_graph_connector.utm_medium_organic_social")
        paid.name, organic.name = "Paid Social", "Sosyal (bizim adımız)"
        self.env["meta.lead.mapper"]._meta_name_mediums()
        self.assertEqual(paid.name, "Ücretli Sosyal Medya")
        self.assertEqual(organic.name, "Sosyal (bizim adımız)")  # renamed: kept

    def test_the_province_key_reads_il_not_durum(self):
        """Meta's ``ST`` key is a province in Turkey: "İl", never "Durum"
        (the Turkish of a record's state)."""
        self.env["res.lang"]._activate_lang("tr_TR")
        self.env["ir.module.module"]._load_module_terms(
            [ADDON], ["tr_TR"], overwrite=True
        )
        key = self.env.ref("meta_graph_connector.audience_identifier_state")
        self.assertEqual(key.with_context(lang="tr_TR").name, "İl")
