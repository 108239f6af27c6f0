"""A realistic two-month agency the project has never seen, for benchmarks/categorize_quality.py.

"Hafenblick Studio": a 15-person brand, web and performance-marketing agency in Hamburg with a Madrid
desk. 25 clients, 12 categories of its own (none of the demo's), notes in English, German and Spanish,
typos, Jira keys, vague notes ("wip", "misc", "weiter", "varios", "see jira") and empty ones. Who wrote a
note matters: a developer's "wip" is Web Build, a media buyer's is Paid Media.

The second month drifts the way a real one does: a quarter of the entries use phrasings never written in
the first (new work, new jargon, a category written in a language it was not written in before), and
vague or empty notes turn up on client/person pairs that had none.

    >>> first, second = agency_months(n=200)
    >>> len(first.entries), len(CATEGORIES)
    (200, 12)
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from functions.models import Category, TimeEntry

# name, meaning, billable, line item, keywords (what an ops manager would type into the Categories tab)
CATEGORIES_TABLE: list[tuple[str, str, bool, str, str]] = [
    (
        "Brand Identity",
        "Logos, brand guidelines, visual identity, naming, packaging and print design.",
        True,
        "Brand & Design",
        "logo, brand, guidelines, packaging, naming, print",
    ),
    (
        "UX & Web Design",
        "Wireframes, user flows, screen design and prototypes for websites and apps.",
        True,
        "Brand & Design",
        "wireframe, figma, prototype, mockup, layout, ux",
    ),
    (
        "Web Build",
        "Front-end and back-end development of websites, shops and apps, code review.",
        True,
        "Development",
        "develop, frontend, backend, code, component, shopify, wordpress, api",
    ),
    (
        "Bug Fixing",
        "Fixing defects and errors reported on live sites and apps.",
        True,
        "Development",
        "bug, fix, error, broken, defect, hotfix",
    ),
    (
        "Hosting & Care",
        "Hosting, updates, backups, monitoring, security patches, SSL and domains for live sites.",
        True,
        "Care Plan",
        "hosting, plugin updates, backup, ssl, domain, server, uptime",
    ),
    (
        "Copywriting",
        "Writing and editing texts: website copy, blog articles, newsletters, translations.",
        True,
        "Content",
        "copy, text, article, blog, newsletter, translation, proofreading",
    ),
    (
        "Paid Media",
        "Planning, setting up and optimising paid campaigns on Google, Meta, LinkedIn and TikTok.",
        True,
        "Performance Marketing",
        "ads, campaign, google ads, meta, budget, bidding, adwords",
    ),
    (
        "SEO",
        "Search engine optimisation: keyword research, on-page fixes, technical audits, backlinks.",
        True,
        "Performance Marketing",
        "seo, keyword research, backlinks, ranking, search console",
    ),
    (
        "Video & Motion",
        "Filming, editing, animation and motion graphics.",
        True,
        "Video",
        "video, shoot, edit, animation, motion, footage",
    ),
    (
        "Reporting & Analytics",
        "Tracking setup, dashboards and monthly performance reports for clients.",
        True,
        "Reporting",
        "report, dashboard, tracking, analytics, ga4, kpi",
    ),
    (
        "Account Management",
        "Client meetings, calls, emails, estimates, coordination and project management with the client.",
        True,
        "Account Management",
        "meeting, call, jour fixe, coordination, planning, email, estimate",
    ),
    (
        "Internal Admin",
        "Non-billable agency time: internal meetings, timesheets, hiring, training, tools.",
        False,
        "",
        "internal, timesheet, hiring, training, team",
    ),
]
CATEGORIES: tuple[Category, ...] = tuple(
    Category(name=n, meaning=m, billable=b, line_item=li, keywords=kw) for n, m, b, li, kw in CATEGORIES_TABLE
)


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    langs: tuple[str, ...]  # the languages this person writes notes in, most used first
    mix: dict[str, int]  # category -> weight
    vague_rate: float = 0.06


PEOPLE: list[Person] = [
    Person("Lena Vogel", "Designer", ("de", "en"), {"Brand Identity": 6, "UX & Web Design": 3, "Internal Admin": 1}),
    Person("Tobias Brandt", "Designer", ("de",), {"UX & Web Design": 6, "Brand Identity": 2, "Internal Admin": 1}),
    Person("Carmen Ortega", "Designer", ("es", "en"), {"UX & Web Design": 4, "Brand Identity": 4, "Internal Admin": 1}),
    Person(
        "Jonas Krüger",
        "Developer",
        ("en", "de"),
        {"Web Build": 7, "Bug Fixing": 3, "Hosting & Care": 1, "Internal Admin": 1},
        0.12,
    ),
    Person("Felix Hartmann", "Developer", ("en",), {"Web Build": 6, "Bug Fixing": 4, "Hosting & Care": 1}, 0.1),
    Person(
        "Diego Navarro",
        "Developer",
        ("es", "en"),
        {"Web Build": 5, "Bug Fixing": 3, "Hosting & Care": 2, "Internal Admin": 1},
        0.1,
    ),
    Person("Nina Scholz", "DevOps", ("en", "de"), {"Hosting & Care": 7, "Bug Fixing": 2, "Web Build": 1}),
    Person("Sophie Wagner", "Copywriter", ("de", "en"), {"Copywriting": 8, "SEO": 1, "Internal Admin": 1}),
    Person("Lucía Fernández", "Copywriter", ("es", "en"), {"Copywriting": 8, "SEO": 1}),
    Person("Mateo Ruiz", "Media Buyer", ("es", "en"), {"Paid Media": 7, "Reporting & Analytics": 3}, 0.1),
    Person("Hannah Becker", "Media Buyer", ("de", "en"), {"Paid Media": 6, "Reporting & Analytics": 3, "SEO": 1}),
    Person("Paul Richter", "SEO Specialist", ("de", "en"), {"SEO": 7, "Reporting & Analytics": 2, "Copywriting": 1}),
    Person("Marta Gil", "Motion Designer", ("es",), {"Video & Motion": 8, "Brand Identity": 1, "Internal Admin": 1}),
    Person(
        "Anna Schmidt",
        "Account Manager",
        ("de", "en"),
        {"Account Management": 8, "Reporting & Analytics": 1, "Internal Admin": 2},
    ),
    Person("Oliver Kent", "Account Manager", ("en",), {"Account Management": 8, "Internal Admin": 2}),
]

CLIENTS: list[tuple[str, list[str]]] = [
    ("Bäckerei Hofmann", ["Website Relaunch", "Care Plan"]),
    ("Solaris Energía", ["Always-on Ads", "Website Relaunch"]),
    ("Nordwind Reisen", ["Brand Refresh", "SEO Retainer"]),
    ("Café Luna", ["Social Ads"]),
    ("Kessler Maschinenbau", ["Care Plan", "Trade Fair Video"]),
    ("Altamira Vinos", ["Online Shop", "Brand Refresh"]),
    ("Elbe Dental", ["Website Relaunch", "Always-on Ads"]),
    ("Quantum Fitness", ["App MVP", "Social Ads"]),
    ("Hansa Logistik", ["Intranet", "Care Plan"]),
    ("Verde Cosmetics", ["Online Shop", "Always-on Ads"]),
    ("Stadtwerke Lindau", ["Website Relaunch"]),
    ("Marea Surf Co", ["Brand Refresh", "Launch Video"]),
    ("Brauhaus Fischer", ["Online Shop", "Social Ads"]),
    ("Clínica Sonrisa", ["SEO Retainer", "Always-on Ads"]),
    ("Lumen Architekten", ["Portfolio Site"]),
    ("Pixelwerk GmbH", ["Care Plan"]),
    ("Torres & Hijos", ["Brand Refresh", "Online Shop"]),
    ("Alpenmilch", ["Launch Video", "Always-on Ads"]),
    ("Finanzkontor", ["App MVP", "Care Plan"]),
    ("Rosa Blanca Hotels", ["Website Relaunch", "SEO Retainer"]),
    ("Werkstatt 21", ["Brand Refresh"]),
    ("Ostsee Immobilien", ["Always-on Ads", "Reporting"]),
    ("Gaia Bio Markt", ["Online Shop", "SEO Retainer"]),
    ("Kaiser Versicherung", ["Intranet", "Reporting"]),
    ("Mar Azul Yachts", ["Launch Video", "Website Relaunch"]),
]
# what a project is mostly about: its categories weigh three times as much for whoever works on it
PROJECT_TYPES: dict[str, set[str]] = {
    "Website Relaunch": {"UX & Web Design", "Web Build"},
    "Care Plan": {"Hosting & Care", "Bug Fixing"},
    "Always-on Ads": {"Paid Media", "Reporting & Analytics"},
    "Social Ads": {"Paid Media", "Video & Motion"},
    "Brand Refresh": {"Brand Identity", "Copywriting"},
    "SEO Retainer": {"SEO", "Copywriting", "Reporting & Analytics"},
    "Trade Fair Video": {"Video & Motion"},
    "Launch Video": {"Video & Motion", "Copywriting"},
    "Online Shop": {"Web Build", "UX & Web Design", "Bug Fixing"},
    "App MVP": {"Web Build", "UX & Web Design"},
    "Intranet": {"Web Build", "Hosting & Care"},
    "Portfolio Site": {"UX & Web Design", "Web Build", "Copywriting"},
    "Reporting": {"Reporting & Analytics"},
}
JIRA = {c: "".join(w[0] for w in c.split()[:2]).upper() + c.split()[0][1:3].upper() for c, _ in CLIENTS}
THINGS = {
    "en": ["homepage", "checkout", "product page", "contact form", "newsletter", "landing page", "menu", "footer"],
    "de": ["Startseite", "Warenkorb", "Produktseite", "Kontaktformular", "Landingpage", "Navigation", "Footer"],
    "es": ["portada", "carrito", "ficha de producto", "formulario", "landing", "menú", "pie de página"],
}

# category -> language -> (phrasings of the first month, phrasings that first appear in the second).
# {x} is a thing on the site, {k} a Jira key; a phrasing list of the second month may be in a language the
# category was never written in before.
P = dict[str, tuple[list[str], list[str]]]
PHRASES: dict[str, P] = {
    "Brand Identity": {
        "en": (["logo concepts", "brand guidelines v2", "packaging mockup", "business cards"], ["tone board"]),
        "de": (["Logo Entwürfe", "Styleguide überarbeiten", "Verpackung Reinzeichnung"], ["Markenworkshop"]),
        "es": (["bocetos de logo", "manual de marca"], ["paleta de colores nueva", "papelería corporativa"]),
    },
    "UX & Web Design": {
        "en": (["wireframes {x}", "figma screens {x}", "mobile layout {x}", "click dummy"], ["user flow {x}"]),
        "de": (["Wireframes {x}", "Screendesign {x}", "Klickprototyp"], ["Moodboard {x}", "UX Review {x}"]),
        "es": (["wireframes de la {x}", "diseño de pantallas {x}"], ["prototipo navegable {x}"]),
    },
    "Web Build": {
        "en": (
            ["{k} build {x} component", "implement {x}", "{k} frontend {x}", "code review", "shopify theme {x}"],
            ["{k} headless cms migration", "refactor {x} to astro", "{k} api integration {x}"],
        ),
        "de": (["{x} umsetzen", "{k} Frontend {x}", "Template {x} bauen"], ["Schnittstelle {x} anbinden"]),
        "es": (["{k} maquetación {x}", "desarrollo {x}"], ["integración api {x}", "{k} componentes react {x}"]),
    },
    "Bug Fixing": {
        "en": (["{k} fix {x} bug", "{k} broken {x} on safari", "hotfix {x}", "{k}"], ["{k} regression {x}"]),
        "de": (["{k} Fehler {x} beheben", "Bugfix {x}"], ["{k} {x} kaputt auf iOS"]),
        "es": (["{k} corregir error {x}", "arreglar {x}"], ["{k} fallo en {x} móvil"]),
    },
    "Hosting & Care": {
        "en": (["plugin updates", "backup check", "ssl renewal", "server monitoring"], ["php 8.3 upgrade"]),
        "de": (["Wartung WordPress Updates", "Backup prüfen", "Domain umziehen"], ["Sicherheitsupdate Server"]),
        "es": (["actualizaciones de plugins"], ["renovación certificado ssl", "migración de hosting"]),
    },
    "Copywriting": {
        "en": (["blog article draft", "website copy {x}", "newsletter text", "proofreading"], ["case study interview"]),
        "de": (["Texte {x}", "Blogartikel schreiben", "Korrektorat"], ["Produktbeschreibungen texten"]),
        "es": (["redacción {x}", "artículo de blog", "traducción al inglés"], ["textos para la {x}"]),
    },
    "Paid Media": {
        "en": (["google ads optimisation", "meta campaign setup", "budget pacing"], ["tiktok ads test", "pmax setup"]),
        "de": (["Kampagnen Optimierung", "Anzeigen anlegen", "Gebote anpassen"], ["LinkedIn Kampagne aufsetzen"]),
        "es": (["optimización de campañas", "anuncios meta"], ["configurar campaña de google"]),
    },
    "SEO": {
        "en": (["keyword research", "on-page seo {x}", "backlink outreach"], ["core web vitals audit"]),
        "de": (["Keyword Recherche", "SEO Audit", "Meta Descriptions {x}"], ["interne Verlinkung {x}"]),
        "es": (["investigación de palabras clave"], ["auditoría seo técnica", "enlazado interno {x}"]),
    },
    "Video & Motion": {
        "en": (["video edit", "motion graphics intro"], ["drone footage review", "reels cutdowns"]),
        "de": (["Videoschnitt"], ["Dreh Messestand", "Untertitel Video"]),
        "es": (["edición de vídeo", "animación logo", "rodaje en cliente", "montaje spot"], ["color grading"]),
    },
    "Reporting & Analytics": {
        "en": (["monthly report", "ga4 tracking setup", "looker dashboard"], ["attribution analysis"]),
        "de": (["Monatsreport", "Tracking einrichten", "Dashboard anpassen"], ["Conversion Tracking prüfen"]),
        "es": (["informe mensual", "configuración de tracking"], ["análisis de conversiones"]),
    },
    "Account Management": {
        "en": (["client call", "weekly status call", "emails", "estimate {x}", "call"], ["qbr prep", "scope change"]),
        "de": (["Jour fixe", "Abstimmung mit Kunde", "Angebot {x}", "Telefonat"], ["Kickoff Termin vorbereiten"]),
        "es": (["llamada con cliente", "reunión semanal"], ["presupuesto {x}", "coordinación con cliente"]),
    },
    "Internal Admin": {
        "en": (["team meeting", "timesheets", "hiring interview", "call"], ["offsite planning"]),
        "de": (["Teammeeting", "Stundenzettel", "Bewerbungsgespräch"], ["Weiterbildung Figma Kurs"]),
        "es": (["reunión interna"], ["formación interna", "onboarding nuevo compañero"]),
    },
}
VAGUE = ["wip", "misc", "continued", "see jira", "tickets", "weiter", "Fortsetzung", "varios", "seguimiento", "..."]
TYPOS = {
    "campaign": "campiagn",
    "wireframes": "wirefames",
    "Fehler": "Feler",
    "optimización": "optimizacion",
    "review": "reveiw",
    "report": "reprot",
    "Kampagnen": "Kampagen",
    "Texte": "Txte",
    "edición": "edicion",
    "layout": "layuot",
    "build": "biuld",
    "Entwürfe": "Entwuerfe",
}
TRACKER_TASK = {  # the task a Harvest-style tracker carries, in the agency's own words
    "Brand Identity": "Design",
    "UX & Web Design": "Design",
    "Web Build": "Development",
    "Bug Fixing": "Development",
    "Hosting & Care": "Maintenance",
    "Copywriting": "Content",
    "Paid Media": "Marketing",
    "SEO": "Marketing",
    "Video & Motion": "Production",
    "Reporting & Analytics": "Marketing",
    "Account Management": "Account",
    "Internal Admin": "Non-billable",
}


@dataclass(frozen=True)
class Month:
    entries: tuple[TimeEntry, ...]
    labels: dict[str, str]  # entry ref -> true category
    kinds: dict[str, str] = field(default_factory=dict)  # entry ref -> seen | new | vague | empty


def _clients_of(rng: random.Random) -> dict[str, list[str]]:
    """Each person works for 5-9 clients, the same both months."""
    names = [c for c, _ in CLIENTS]
    return {p.name: rng.sample(names, rng.randint(5, 9)) for p in PEOPLE}


def _mess(text: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.1:
        for right, wrong in TYPOS.items():
            if right in text:
                return text.replace(right, wrong, 1)
    if r < 0.18:
        return text.lower() if rng.random() < 0.6 else text.capitalize() + "."
    if r < 0.22:
        return text + rng.choice([" (cont.)", "!!", " - 2h", " + emails", " 🙂"])
    return text


def agency_month(seed: int, n: int, second: bool, start: date) -> Month:
    rng = random.Random(seed)
    clients_of = _clients_of(random.Random(7))  # the same staffing in both months
    projects = dict(CLIENTS)
    default: dict[tuple[str, str, str], str] = {}
    entries: list[TimeEntry] = []
    labels: dict[str, str] = {}
    kinds: dict[str, str] = {}
    weights = [3 if p.role in ("Developer", "Designer") else 2 for p in PEOPLE]
    for i in range(n):
        person = rng.choices(PEOPLE, weights=weights)[0]
        if rng.random() < person.mix.get("Internal Admin", 0) / sum(person.mix.values()):
            client, project = "Hafenblick Studio", "Internal"
        else:
            client = rng.choice(clients_of[person.name])
            project = rng.choice(projects[client])
        # what this person does on this project: their skills weighted by what the project is about
        mix = {
            c: w * (3 if c in PROJECT_TYPES.get(project, ()) else 1)
            for c, w in person.mix.items()
            if (c == "Internal Admin") == (project == "Internal")
        }
        cats = list(mix)
        cat = rng.choices(cats, weights=[mix[c] for c in cats])[0]
        key = (person.name, client, project)
        if key not in default:  # what their vague notes there mean (the same every month): mostly their main work
            default[key] = random.Random("|".join(key)).choices(cats, weights=[mix[c] ** 2 for c in cats])[0]
        lang = rng.choice(list(person.langs[:1]) * 3 + list(person.langs))
        r = rng.random()
        if r < 0.04 + (0.02 if second else 0):
            kind, notes, cat = "empty", "", default[key]
        elif r < 0.04 + person.vague_rate + (0.03 if second else 0):
            kind, notes, cat = "vague", rng.choice(VAGUE), default[key]
        else:
            by_lang = PHRASES[cat]
            use_new = second and rng.random() < 0.28
            if use_new:
                # new work, or the category written in another language than before
                lang = rng.choice(list(by_lang))
                pool = by_lang[lang][1]
            else:
                lang = lang if lang in by_lang else next(iter(by_lang))
                pool = by_lang[lang][0] or by_lang[lang][1]
            kind = "new" if use_new else "seen"
            jira = f"{JIRA.get(client, 'HB')}-{rng.randint(10, 480)}"
            notes = rng.choice(pool).format(x=rng.choice(THINGS[lang]), k=jira)
            notes = _mess(notes, rng)
        has_task = rng.random() < 0.55  # the Harvest half of the agency logs a task, the Toggl half does not
        task = TRACKER_TASK[cat] if has_task else ""
        if task and rng.random() < 0.08:
            task = "Development" if person.role == "Developer" else "Design"  # logged under the usual task
        e = TimeEntry(
            source="harvest" if has_task else "toggl",
            source_id=f"hb{seed}-{i}",
            date=start + timedelta(days=rng.randrange(28)),
            client=client,
            project=project,
            task=task,
            person=person.name,
            role=person.role,
            notes=notes,
            hours=str(rng.choice([0.25, 0.5, 1, 1.5, 2, 3, 4, 6])),
        )
        entries.append(e)
        labels[e.ref] = cat
        kinds[e.ref] = kind
    return Month(tuple(entries), labels, kinds)


def agency_months(n: int = 2000) -> tuple[Month, Month]:
    first = agency_month(21, n, second=False, start=date(2026, 9, 1))
    second = agency_month(22, n, second=True, start=date(2026, 10, 1))
    return first, second
