"""Realistic Turkish lead data, generated from a seeded random stream.

The values deliberately cover what a CRM import must survive: names with
``ğ ş ı İ ç ö ü``, e-mails with odd casing/spaces, and mobile numbers in
the many spellings people type (``0532 123 45 67``, ``+90 532 123 4567``,
``5321234567`` …).  Lead Ads returns answers as typed by the user, so the
simulator must not normalise them (docs/meta-facts.md §5.1).
"""

import random

FIRST_NAMES = (
    "Ayşe", "Fatma", "Zeynep", "Elif", "Şule", "Gülşen", "Özlem", "İrem",
    "Çağla", "Büşra", "Ömer", "Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin",
    "İbrahim", "Çağrı", "Uğur", "Doğan", "Barış", "Gökhan", "Şükrü", "Ümit",
    "Işıl", "Ilgın", "Gülizar", "Süleyman", "Yiğit", "Nazlı",
)  # fmt: skip
LAST_NAMES = (
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım",
    "Öztürk", "Aydın", "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan",
    "Çetin", "Kara", "Koç", "Kurt", "Özkan", "Şimşek", "Güneş", "Işık",
    "Erdoğan", "Gündoğdu", "Türkmen", "Ağaoğlu", "Çakır", "Ünal",
)  # fmt: skip
CITIES = (
    "İstanbul", "Ankara", "İzmir", "Bursa", "Antalya", "Eskişehir", "Muğla",
    "Şanlıurfa", "Çanakkale", "Kütahya", "Diyarbakır", "Iğdır", "Gümüşhane",
    "Ağrı", "Düzce", "Karşıyaka",
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "yandex.com.tr")
MOBILE_PREFIXES = ("530", "532", "533", "535", "536", "542", "544", "505", "555")
PHONE_FORMATS = (
    "0{p} {a} {b} {c}",  # 0532 123 45 67
    "+90 {p} {a} {b}{c}",  # +90 532 123 4567
    "{p}{a}{b}{c}",  # 5321234567
    "+90{p}{a}{b}{c}",  # +905321234567
    "0({p}) {a}-{b}-{c}",  # 0(532) 123-45-67
    "90 {p} {a} {b} {c}",  # 90 532 123 45 67
    "0{p}{a}{b}{c}",  # 05321234567
)
_ASCII = str.maketrans("çğıöşüÇĞİÖŞÜ", "cgiosuCGIOSU")

DEFAULT_CUSTOM_QUESTION = {
    "key": "hangi_hizmet_ile_ilgileniyorsunuz?",
    "label": "Hangi hizmet ile ilgileniyorsunuz?",
    "type": "CUSTOM",
    "options": [
        {"key": "kurumsal_paket", "value": "Kurumsal paket"},
        {"key": "bireysel_paket", "value": "Bireysel paket"},
        {"key": "danismanlik", "value": "Danışmanlık"},
    ],
}


def default_questions() -> list[dict]:
    """The default form: four standard questions + one multiple choice (§5.3)."""
    return [
        {"key": "full_name", "label": "Ad soyad", "type": "FULL_NAME"},
        {"key": "email", "label": "E-posta", "type": "EMAIL"},
        {"key": "phone_number", "label": "Telefon numarası", "type": "PHONE"},
        {"key": "city", "label": "Şehir", "type": "CITY"},
        {
            **DEFAULT_CUSTOM_QUESTION,
            "options": [dict(o) for o in DEFAULT_CUSTOM_QUESTION["options"]],
        },
    ]


def ascii_slug(text: str) -> str:
    """Turkish letters folded to ASCII, lowercase (for e-mail local parts)."""
    return text.translate(_ASCII).lower().replace(" ", "")


class LeadFaker:
    """Builds ``field_data`` answers for a form's questions."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def phone(self) -> str:
        rng = self.rng
        return rng.choice(PHONE_FORMATS).format(
            p=rng.choice(MOBILE_PREFIXES),
            a=f"{rng.randrange(1000):03d}",
            b=f"{rng.randrange(100):02d}",
            c=f"{rng.randrange(100):02d}",
        )

    def email(self, first: str, last: str) -> str:
        rng = self.rng
        local = f"{ascii_slug(first)}.{ascii_slug(last)}{rng.randrange(1, 999)}"
        address = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
        roll = rng.random()
        if roll < 0.1:
            return address.title()  # "Ayse.Yilmaz12@Gmail.Com"
        if roll < 0.15:
            return f" {address} "  # stray spaces as typed on a phone
        return address

    def answers(self, questions: list[dict]) -> list[dict]:
        """One answer per question, keyed by the question ``key`` (§5.3)."""
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        data = []
        for question in questions:
            value = self._answer(question, first, last)
            if value is not None:
                data.append({"name": question["key"], "values": [value]})
        return data

    def _answer(self, question: dict, first: str, last: str):
        kind = question.get("type", "CUSTOM")
        rng = self.rng
        simple = {
            "FULL_NAME": lambda: f"{first} {last}",
            "FIRST_NAME": lambda: first,
            "LAST_NAME": lambda: last,
            "EMAIL": lambda: self.email(first, last),
            "WORK_EMAIL": lambda: self.email(first, last),
            "PHONE": self.phone,
            "WORK_PHONE_NUMBER": self.phone,
            "CITY": lambda: rng.choice(CITIES),
            "COUNTRY": lambda: "TR",
            "ZIP": lambda: f"{rng.randrange(1, 82):02d}{rng.randrange(1000):03d}",
            "POST_CODE": lambda: f"{rng.randrange(1, 82):02d}000",
            "COMPANY_NAME": lambda: f"{last} {rng.choice(['A.Ş.', 'Ltd. Şti.'])}",
            "JOB_TITLE": lambda: rng.choice(["Satın alma", "Genel müdür", "Öğretmen"]),
        }
        if kind in simple:
            return simple[kind]()
        options = question.get("options") or []
        if options:
            # Multiple choice answers come back as the option key (§5.3).
            return self.rng.choice(options)["key"]
        return rng.choice(["Bilgi almak istiyorum", "Fiyat nedir?", "Arayın lütfen"])
