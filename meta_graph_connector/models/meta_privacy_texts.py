"""The texts a company publishes or shows for what the addon does with
people's data: the KVKK notice ("aydınlatma metni", KVKK Art. 10) for Lead
Ads forms and for Custom Audiences, the explicit consent for transfer abroad
(KVKK Art. 9), and the GDPR notice (Art. 13). Each language is its own legal
text, not a translation of the other; the company reviews them before
publishing (they are templates, not legal advice).

Placeholders: ``{company}``, ``{address}``, ``{email}``; the purposes are
those of the features the company uses (the Meta App's features, and those
its data shows in use). A detail the company lacks is written as missing,
in the text's language, never left blank or as a dash that passes for one.
"""

#: What a text says in place of a detail the company lacks.
MISSING = {
    "address": {
        "tr_TR": "[şirketin adresi eksik]",
        "en_US": "[the company's address is missing]",
    },
    "email": {
        "tr_TR": "[şirketin e-posta adresi eksik]",
        "en_US": "[the company's e-mail address is missing]",
    },
}

#: Purpose of each feature, per language.
PURPOSES = {
    "lead_ads": {
        "tr_TR": "Facebook ve Instagram reklam formlarımız (Lead Ads) aracılığıyla "
        "ilettiğiniz bilgilerle talebinize dönüş yapmak ve satış sürecini yürütmek",
        "en_US": "to answer the request you send through our Facebook and Instagram "
        "lead forms (Lead Ads) and to run the sales process",
    },
    "page_comments": {
        "tr_TR": "Facebook Sayfamızdaki gönderilere yaptığınız yorumları "
        "yanıtlamak ve müşteri kaydınızda saklamak",
        "en_US": "to answer the comments you write on our Facebook Page's posts "
        "and keep them on your customer record",
    },
    "instagram_comments": {
        "tr_TR": "Instagram hesabımızdaki paylaşımlara yaptığınız yorumları ve "
        "bizden bahsettiğiniz paylaşımları yanıtlamak",
        "en_US": "to answer your comments on, and mentions of, our Instagram account",
    },
    "messenger": {
        "tr_TR": "Messenger üzerinden gönderdiğiniz mesajları yanıtlamak ve "
        "yazışma geçmişinizi müşteri kaydınızda saklamak",
        "en_US": "to answer the messages you send us on Messenger and keep the "
        "conversation on your customer record",
    },
    "instagram_messages": {
        "tr_TR": "Instagram üzerinden gönderdiğiniz direkt mesajları yanıtlamak",
        "en_US": "to answer the direct messages you send us on Instagram",
    },
    "audiences": {
        "tr_TR": "açık rızanıza dayanarak, iletişim bilgilerinizi karma (hash) "
        "haline getirerek Meta'nın Özel Hedef Kitlelerine aktarmak ve size "
        "ilgili reklamlar göstermek",
        "en_US": "with your consent, to add your hashed contact details to Meta "
        "Custom Audiences so that you see relevant ads",
    },
    "conversions": {
        "tr_TR": "açık rızanıza dayanarak, satış sürecindeki ilerlemeyi karma "
        "haline getirilmiş tanımlayıcılarla Meta'ya bildirerek reklamlarımızın "
        "etkisini ölçmek",
        "en_US": "with your consent, to tell Meta, with hashed identifiers, how "
        "your request progressed, to measure our ads",
    },
}

KVKK_NOTICE_TR = """<h3>Kişisel Verilerin İşlenmesine İlişkin Aydınlatma Metni</h3>
<p>6698 sayılı Kişisel Verilerin Korunması Kanunu ("KVKK") uyarınca veri sorumlusu
sıfatıyla <b>{company}</b> ({address}) olarak, {context} kişisel verilerinizi
aşağıda açıklanan kapsamda işlemekteyiz.</p>
<h4>1. İşlenen kişisel veriler</h4>
<p>Adınız, soyadınız, e-posta adresiniz, telefon numaranız, formda veya mesajda
bize ilettiğiniz diğer bilgiler ve Meta'nın ilettiği reklam bilgileri
(reklam, reklam seti ve kampanya).</p>
<h4>2. İşleme amaçları</h4>
<ul>{purposes}</ul>
<h4>3. Hukuki sebepler</h4>
<p>Bir sözleşmenin kurulması veya ifasıyla doğrudan ilgili olması (KVKK m. 5/2-c),
meşru menfaatimiz (m. 5/2-f) ve reklam amaçlı aktarımlar için açık rızanız
(m. 5/1 ve m. 9).</p>
<h4>4. Aktarım</h4>
<p>Kişisel verileriniz, hizmet aldığımız Meta Platforms Ireland Limited'e ve onun
aracılığıyla yurt dışına aktarılabilir. Yurt dışına aktarım, açık rızanıza veya
KVKK m. 9'da öngörülen diğer güvencelere dayanır.</p>
<h4>5. Toplama yöntemi</h4>
<p>Verileriniz, Meta'nın formları, yorumları ve mesajlaşma hizmetleri üzerinden
elektronik ortamda otomatik yollarla toplanır.</p>
<h4>6. Haklarınız</h4>
<p>KVKK m. 11 uyarınca verilerinizin işlenip işlenmediğini öğrenme, bilgi talep
etme, düzeltilmesini, silinmesini veya yok edilmesini isteme, itiraz etme ve
zararın giderilmesini talep etme haklarına sahipsiniz. Başvurularınızı
{email} adresine iletebilirsiniz.</p>"""

KVKK_NOTICE_EN = """<h3>Privacy Notice (Turkish Personal Data Protection Law)</h3>
<p>Under Law No. 6698 on the Protection of Personal Data ("KVKK"), <b>{company}</b>
({address}), as data controller, processes your personal data {context} as
described below.</p>
<h4>1. Data processed</h4>
<p>Your name, e-mail address, phone number, what else you send us in a form or a
message, and the advertising details Meta passes on (ad, ad set, campaign).</p>
<h4>2. Purposes</h4>
<ul>{purposes}</ul>
<h4>3. Legal grounds</h4>
<p>Taking steps towards or performing a contract (KVKK Art. 5/2-c), our legitimate
interest (Art. 5/2-f), and your explicit consent for transfers for advertising
(Art. 5/1 and Art. 9).</p>
<h4>4. Recipients and transfers</h4>
<p>Your data may be transferred to Meta Platforms Ireland Limited, our service
provider, and through it abroad, based on your explicit consent or the other
safeguards of KVKK Art. 9.</p>
<h4>5. How the data is collected</h4>
<p>Electronically and automatically, through Meta's forms, comments and messaging.</p>
<h4>6. Your rights</h4>
<p>Under KVKK Art. 11 you may ask whether your data is processed, request
information, correction, erasure or destruction, object, and claim compensation.
Write to {email}.</p>"""

CONTEXTS = {
    "lead_ads": {
        "tr_TR": "Facebook ve Instagram reklam formlarımızı doldurduğunuzda ve "
        "bizimle Meta platformları üzerinden iletişim kurduğunuzda",
        "en_US": "when you fill in our Facebook and Instagram lead forms and "
        "contact us on Meta's platforms",
    },
    "audiences": {
        "tr_TR": "reklamlarımızı size ve size benzer kişilere göstermek için",
        "en_US": "to show our ads to you and to people like you",
    },
}

CONSENT_TRANSFER_TR = """<h3>Yurt Dışına Aktarım için Açık Rıza Metni</h3>
<p><b>{company}</b> tarafından, aydınlatma metninde açıklanan amaçlarla
({purposes}) kişisel verilerimin Meta Platforms Ireland Limited'e ve onun
aracılığıyla yurt dışına aktarılmasına, KVKK m. 9 uyarınca açık rızam ile izin
veriyorum. Bu rızamı dilediğim zaman {email} adresine yazarak geri
alabileceğimi biliyorum.</p>"""

CONSENT_TRANSFER_EN = """<h3>Explicit Consent to Transfer Abroad</h3>
<p>I consent, under KVKK Art. 9, to <b>{company}</b> transferring my personal data
to Meta Platforms Ireland Limited and through it abroad, for the purposes
explained in the privacy notice ({purposes}). I know I can withdraw this consent
at any time by writing to {email}.</p>"""

GDPR_NOTICE_EN = """<h3>Privacy Notice (GDPR Art. 13)</h3>
<p><b>{company}</b> ({address}) is the controller of the personal data you give us
on Meta's platforms (Facebook, Instagram, Messenger).</p>
<h4>Purposes and legal bases</h4>
<ul>{purposes}</ul>
<p>Legal bases: steps at your request before a contract (Art. 6(1)(b)); our
legitimate interest in answering you (Art. 6(1)(f)); your consent for
advertising audiences and measurement (Art. 6(1)(a)), which you may withdraw at
any time.</p>
<h4>Recipients and transfers</h4>
<p>Meta Platforms Ireland Limited; transfers outside the EEA rely on the EU-US
Data Privacy Framework or the European Commission's standard contractual
clauses. Data sent for audiences or measurement is hashed (SHA-256) before it
leaves us.</p>
<h4>Retention</h4>
<p>{retention}</p>
<h4>Your rights</h4>
<p>Access, rectification, erasure, restriction, portability, objection, and
withdrawal of consent: write to {email}. You may lodge a complaint with your
supervisory authority.</p>"""

GDPR_NOTICE_TR = """<h3>Aydınlatma Metni (GDPR m. 13)</h3>
<p>Meta platformlarında (Facebook, Instagram, Messenger) bize ilettiğiniz kişisel
verilerin veri sorumlusu <b>{company}</b> ({address}) şirketidir.</p>
<h4>Amaçlar ve hukuki dayanaklar</h4>
<ul>{purposes}</ul>
<p>Hukuki dayanaklar: talebiniz üzerine sözleşme öncesi adımlar (m. 6(1)(b));
size yanıt vermedeki meşru menfaatimiz (m. 6(1)(f)); reklam hedef kitleleri ve
ölçüm için, dilediğiniz zaman geri alabileceğiniz rızanız (m. 6(1)(a)).</p>
<h4>Alıcılar ve aktarımlar</h4>
<p>Meta Platforms Ireland Limited; AEA dışına aktarımlar AB-ABD Veri Gizliliği
Çerçevesine veya Avrupa Komisyonu'nun standart sözleşme hükümlerine dayanır.
Hedef kitle veya ölçüm için gönderilen veriler bizden çıkmadan önce karma
(SHA-256) haline getirilir.</p>
<h4>Saklama süresi</h4>
<p>{retention}</p>
<h4>Haklarınız</h4>
<p>Erişim, düzeltme, silme, kısıtlama, taşınabilirlik, itiraz ve rızanızı geri
alma: {email} adresine yazın. Denetim makamına şikâyette bulunabilirsiniz.</p>"""

RETENTION = {
    "tr_TR": "Adaylar ve müşteri kayıtları satış ilişkisi süresince saklanır; "
    "mesajların içeriği {days} gün sonra silinir.",
    "en_US": "Leads and customer records are kept for the sales relationship; "
    "message content is erased after {days} days.",
}
RETENTION_FOREVER = {
    "tr_TR": "Adaylar, müşteri kayıtları ve yazışmalar satış ilişkisi süresince "
    "saklanır.",
    "en_US": "Leads, customer records and conversations are kept for the sales "
    "relationship.",
}
