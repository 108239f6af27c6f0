"""A second evaluation agency, designed apart from the first (benchmarks/agency_months.py), so a
first-month figure is not a figure on the agency the lexicon was checked against.

"Kanal & Co": a 14-person product studio and marketing shop with people in Lisbon, Lyon and Amsterdam.
Its 11 categories are its own words ("Discovery", "Build", "Care plan", "Paid media", "Copy", ...), with
meanings written the way a founder writes them, mostly no Keywords. Notes are in English, French,
Portuguese and Dutch (none of the first agency's German or Spanish), written differently: bracketed ticket
keys (`[APP-212] ...`), "PR #88", verb-first imperatives, hashtags, French elision, lowercase Dutch
compounds, "idem", "zie ticket", "suite", "cont." for vague notes. Trackers: a Harvest half with coarse
tasks ("Dev", "Creative", "Marketing", "Overhead") and a Toggl half with none. Roles differ from the
first agency's ("Product Designer", "Full-stack Engineer", "Delivery Lead", "Growth Marketer" ...).

The second month drifts: about a quarter of the phrasings are new (new work, other languages), more
vague and empty notes.

    >>> first, second = kanal_months(n=100)
    >>> len(first.entries), len(CATEGORIES)
    (100, 11)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from benchmarks.agency_months import Month
from functions.models import Category, TimeEntry

# name, meaning, billable, line item, keywords: a founder's first try, keywords mostly left blank
CATEGORIES_TABLE: list[tuple[str, str, bool, str, str]] = [
    ("Discovery", "Up-front research and workshops before we build: interviews, requirements, audits.", True, "", ""),
    ("Visual design", "Look and feel: UI screens, design system, illustrations, brand assets.", True, "Design", ""),
    ("Build", "Writing and shipping product code for web and mobile, integrations, code reviews.", True, "", ""),
    ("QA", "Test passes, device checks, test automation, acceptance with the client.", True, "Build", ""),
    ("Platform", "Cloud infrastructure, pipelines, deployments and environments.", True, "Build", "aws, ci"),
    ("Care plan", "Retainer upkeep of live products: updates, patches, small fixes, uptime.", True, "", ""),
    ("Delivery", "Running the project with the client: planning, check-ins, status, change requests.", True, "", ""),
    ("Paid media", "Buying ads and running campaigns on search and social platforms.", True, "Marketing", ""),
    ("Copy", "Words: site copy, articles, scripts, localisation.", True, "Marketing", ""),
    ("Insights", "Measurement: tracking, dashboards, reports and analysis for clients.", True, "Marketing", ""),
    ("Non-billable", "Anything internal: team rituals, learning, admin, recruiting, pitches.", False, "", ""),
]
CATEGORIES: tuple[Category, ...] = tuple(
    Category(name=n, meaning=m, billable=b, line_item=li, keywords=kw) for n, m, b, li, kw in CATEGORIES_TABLE
)


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    langs: tuple[str, ...]
    mix: dict[str, int]


PEOPLE: list[Person] = [
    Person("Inês Carvalho", "Product Designer", ("pt", "en"), {"Visual design": 6, "Discovery": 3, "Non-billable": 1}),
    Person("Camille Moreau", "UI Designer", ("fr", "en"), {"Visual design": 8, "Copy": 1, "Non-billable": 1}),
    Person("Daan de Vries", "Full-stack Engineer", ("nl", "en"), {"Build": 7, "Care plan": 2, "Platform": 1}),
    Person("Rui Almeida", "Full-stack Engineer", ("pt", "en"), {"Build": 6, "Care plan": 3, "Non-billable": 1}),
    Person("Hugo Lefèvre", "Mobile Engineer", ("fr",), {"Build": 8, "QA": 1, "Non-billable": 1}),
    Person("Sanne Jansen", "Platform Engineer", ("nl", "en"), {"Platform": 6, "Care plan": 4}),
    Person("Beatriz Sousa", "Test Engineer", ("pt", "en"), {"QA": 8, "Build": 1, "Non-billable": 1}),
    Person("Thomas Girard", "Delivery Lead", ("fr", "en"), {"Delivery": 7, "Discovery": 2, "Non-billable": 2}),
    Person("Emma Bakker", "Delivery Lead", ("nl", "en"), {"Delivery": 8, "Non-billable": 2}),
    Person("Léa Dubois", "Strategist", ("fr", "en"), {"Discovery": 6, "Insights": 2, "Non-billable": 1}),
    Person("Joost Visser", "Growth Marketer", ("nl", "en"), {"Paid media": 7, "Insights": 3}),
    Person("Mariana Costa", "Content Writer", ("pt", "fr"), {"Copy": 8, "Paid media": 1}),
    Person("Chloé Martin", "Data Analyst", ("fr", "en"), {"Insights": 8, "Discovery": 1}),
    Person("Sam Okafor", "Founder", ("en",), {"Non-billable": 6, "Discovery": 2, "Delivery": 2}),
]
CLIENTS: list[tuple[str, list[str]]] = [
    ("Padaria Lusa", ["Ordering App", "Support Retainer"]),
    ("Vélo Rhône", ["E-shop", "Search Ads"]),
    ("Grachten Bank", ["Customer Portal", "Support Retainer"]),
    ("Maison Ardoise", ["Brand Site", "Social Ads"]),
    ("Tejo Seguros", ["Claims App", "Analytics"]),
    ("Fietsfabriek", ["E-shop", "Support Retainer"]),
    ("Clinique Alba", ["Patient App", "Search Ads"]),
    ("Porto Vinhos", ["Brand Site", "Social Ads"]),
    ("Noord Energie", ["Customer Portal", "Analytics"]),
    ("Atelier Lune", ["E-shop"]),
    ("Mar & Sal Hotéis", ["Booking Engine", "Search Ads"]),
    ("Kaasboerderij", ["Brand Site"]),
    ("Lyon Transit", ["Journey Planner", "Support Retainer"]),
    ("Sintra Labs", ["Ordering App", "Analytics"]),
    ("Delta Logistiek", ["Customer Portal"]),
    ("Boulangerie Roux", ["Social Ads", "Brand Site"]),
]
PROJECT_TYPES: dict[str, set[str]] = {
    "Ordering App": {"Build", "Visual design", "QA"},
    "Support Retainer": {"Care plan", "Platform"},
    "E-shop": {"Build", "Visual design"},
    "Search Ads": {"Paid media", "Insights"},
    "Customer Portal": {"Build", "Discovery", "QA"},
    "Brand Site": {"Visual design", "Copy", "Build"},
    "Social Ads": {"Paid media", "Copy"},
    "Claims App": {"Build", "QA"},
    "Analytics": {"Insights"},
    "Patient App": {"Build", "Discovery", "QA"},
    "Booking Engine": {"Build", "Platform"},
    "Journey Planner": {"Build", "Discovery"},
}
THINGS = {
    "en": ["onboarding", "basket", "search", "account page", "push", "booking flow", "pricing table"],
    "fr": ["panier", "page d'accueil", "tunnel de commande", "espace client", "recherche", "formulaire"],
    "pt": ["carrinho", "página inicial", "pagamento", "área de cliente", "pesquisa", "registo"],
    "nl": ["winkelmand", "homepagina", "afrekenen", "mijn account", "zoekfunctie", "inlogscherm"],
}
# category -> language -> (first-month phrasings, phrasings that first appear in the second month)
P = dict[str, tuple[list[str], list[str]]]
PHRASES: dict[str, P] = {
    "Discovery": {
        "en": (["stakeholder interviews", "persona workshop", "requirements doc {x}"], ["jobs-to-be-done synthesis"]),
        "fr": (["atelier cadrage", "entretiens utilisateurs", "benchmark concurrents"], ["cartographie parcours"]),
        "pt": (["workshop de descoberta", "entrevistas com utilizadores"], ["levantamento de requisitos"]),
        "nl": (["interviews met gebruikers", "concurrentieanalyse"], ["klantreis in kaart brengen"]),
    },
    "Visual design": {
        "en": (["ui for {x}", "design system tokens", "hero illustration"], ["dark mode explorations {x}"]),
        "fr": (["maquettes {x}", "charte graphique", "icônes"], ["déclinaisons bannières"]),
        "pt": (["ecrãs {x}", "ilustrações", "protótipo {x}"], ["guia de estilo"]),
        "nl": (["ontwerp {x}", "huisstijl"], ["iconenset", "schermontwerpen {x}"]),
    },
    "Build": {
        "en": (["[{k}] {x} endpoint", "PR #{n} {x}", "wire up {x}", "pair programming"], ["[{k}] graphql {x}"]),
        "fr": (["[{k}] dév {x}", "intégration {x}", "revue de code"], ["[{k}] migration vers next {x}"]),
        "pt": (["[{k}] desenvolvimento {x}", "implementar {x}"], ["ligação à api de pagamentos"]),
        "nl": (["[{k}] bouwen {x}", "{x} ontwikkelen"], ["[{k}] koppeling met crm"]),
    },
    "QA": {
        "en": (["test pass {x}", "device lab run", "cypress specs {x}"], ["accessibility check {x}"]),
        "fr": (["recette {x}", "tests de non-régression"], ["campagne de tests {x}"]),
        "pt": (["testes {x}", "testes em dispositivos"], ["testes automáticos {x}"]),
        "nl": (["testen {x}", "acceptatietest met klant"], ["regressietest"]),
    },
    "Platform": {
        "en": (["ci pipeline", "terraform modules", "staging env"], ["k8s cluster upgrade"]),
        "fr": (["mise en production", "pipeline ci"], ["déploiement kubernetes"]),
        "pt": (["deploy para produção", "configurar servidor"], ["infraestrutura aws"]),
        "nl": (["uitrol naar productie", "servers inrichten"], ["omgeving opzetten"]),
    },
    "Care plan": {
        "en": (["[{k}] patch {x}", "dependency bumps", "uptime alert"], ["[{k}] security update"]),
        "fr": (["[{k}] correctif {x}", "mises à jour"], ["[{k}] anomalie {x} en prod"]),
        "pt": (["[{k}] correção {x}", "atualizações"], ["erro em produção {x}"]),
        "nl": (["[{k}] bug {x} opgelost", "updates plugins"], ["storing {x}"]),
    },
    "Delivery": {
        "en": (["weekly check-in", "sprint planning", "status update to client"], ["change request {x}"]),
        "fr": (["point hebdo client", "planning sprint", "compte rendu"], ["suivi de projet"]),
        "pt": (["reunião com cliente", "planeamento sprint"], ["ponto de situação"]),
        "nl": (["overleg met klant", "sprintplanning"], ["voortgangsoverleg"]),
    },
    "Paid media": {
        "en": (["google ads tweaks", "meta campaign", "budget pacing"], ["tiktok spark ads"]),
        "fr": (["campagne google ads", "optimisation enchères"], ["lancement campagne meta"]),
        "pt": (["campanha google", "anúncios meta"], ["otimização de campanhas"]),
        "nl": (["advertenties", "campagne optimaliseren"], ["biedstrategie aanpassen"]),
    },
    "Copy": {
        "en": (["blog post", "website copy {x}", "script for video"], ["tone of voice doc"]),
        "fr": (["rédaction {x}", "article de blog", "relecture"], ["traduction en anglais"]),
        "pt": (["textos {x}", "artigo para o blog", "revisão de texto"], ["tradução para inglês"]),
        "nl": (["teksten {x}", "blogartikel"], ["vertaling naar engels"]),
    },
    "Insights": {
        "en": (["ga4 events {x}", "monthly dashboard", "funnel analysis"], ["cohort report"]),
        "fr": (["rapport mensuel", "plan de taggage", "tableau de bord"], ["analyse des conversions"]),
        "pt": (["relatório mensal", "configuração do tracking"], ["análise de dados"]),
        "nl": (["maandrapportage", "dashboard bijwerken"], ["conversie-analyse"]),
    },
    "Non-billable": {
        "en": (["team retro", "timesheets", "recruiting call", "pitch prep"], ["conference talk prep"]),
        "fr": (["réunion d'équipe", "administratif", "entretien d'embauche"], ["formation interne"]),
        "pt": (["reunião interna", "formação"], ["recrutamento"]),
        "nl": (["teamoverleg", "administratie"], ["sollicitatiegesprek", "cursus"]),
    },
}
VAGUE = ["idem", "suite", "cont.", "zie ticket", "ver ticket", "diverse", "divers", "wip", "#wip", "vervolg"]
TYPOS = {"campaign": "campagin", "maquettes": "maquetes", "testes": "testess", "rapport": "raport", "design": "desing"}
TRACKER_TASK = {
    "Discovery": "Strategy",
    "Visual design": "Creative",
    "Build": "Dev",
    "QA": "Dev",
    "Platform": "Dev",
    "Care plan": "Retainer",
    "Delivery": "PM",
    "Paid media": "Marketing",
    "Copy": "Creative",
    "Insights": "Marketing",
    "Non-billable": "Overhead",
}


def _mess(text: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.08:
        for right, wrong in TYPOS.items():
            if right in text:
                return text.replace(right, wrong, 1)
    if r < 0.14:
        return text.capitalize()
    if r < 0.2:
        return text + rng.choice([" #client", " ✅", " (suite)", " ++", " - 1/2"])
    return text


def kanal_month(seed: int, n: int, second: bool, start: date) -> Month:
    rng = random.Random(seed)
    staff = random.Random(3)
    clients_of = {p.name: staff.sample([c for c, _ in CLIENTS], staff.randint(4, 8)) for p in PEOPLE}
    projects = dict(CLIENTS)
    default: dict[tuple[str, str, str], str] = {}
    entries: list[TimeEntry] = []
    labels: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for i in range(n):
        person = rng.choice(PEOPLE)
        if rng.random() < person.mix.get("Non-billable", 0) / sum(person.mix.values()):
            client, project = "Kanal & Co", "Studio"
        else:
            client = rng.choice(clients_of[person.name])
            project = rng.choice(projects[client])
        mix = {
            c: w * (4 if c in PROJECT_TYPES.get(project, ()) else 1)
            for c, w in person.mix.items()
            if (c == "Non-billable") == (project == "Studio")
        }
        cats = list(mix)
        cat = rng.choices(cats, weights=[mix[c] for c in cats])[0]
        key = (person.name, client, project)
        if key not in default:
            default[key] = random.Random("/".join(key)).choices(cats, weights=[mix[c] ** 2 for c in cats])[0]
        r = rng.random()
        if r < 0.03 + (0.02 if second else 0):
            kind, notes, cat = "empty", "", default[key]
        elif r < 0.1 + (0.03 if second else 0):
            kind, notes, cat = "vague", rng.choice(VAGUE), default[key]
        else:
            by_lang = PHRASES[cat]
            use_new = second and rng.random() < 0.25
            lang = rng.choice(list(person.langs) + [person.langs[0]])
            if use_new:
                lang = rng.choice(list(by_lang))
            pool = by_lang[lang][1 if use_new else 0]
            kind = "new" if use_new else "seen"
            k = f"{client[:3].upper()}-{rng.randint(10, 900)}"
            notes = rng.choice(pool).format(x=rng.choice(THINGS[lang]), k=k, n=rng.randint(20, 400))
            notes = _mess(notes, rng)
        has_task = rng.random() < 0.5
        task = TRACKER_TASK[cat] if has_task else ""
        e = TimeEntry(
            source="harvest" if has_task else "toggl",
            source_id=f"kc{seed}-{i}",
            date=start + timedelta(days=rng.randrange(28)),
            client=client,
            project=project,
            task=task,
            person=person.name,
            role=person.role,
            notes=notes,
            hours=str(rng.choice([0.5, 1, 1.5, 2, 3, 4])),
        )
        entries.append(e)
        labels[e.ref] = cat
        kinds[e.ref] = kind
    return Month(tuple(entries), labels, kinds)


def kanal_months(n: int = 2000) -> tuple[Month, Month]:
    return (
        kanal_month(31, n, second=False, start=date(2026, 9, 1)),
        kanal_month(32, n, second=True, start=date(2026, 10, 1)),
    )
