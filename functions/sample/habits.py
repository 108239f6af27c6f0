"""The sample agency's habits, as data for the generator: what each role charges and spends its time on,
the notes people write per category (telling and vague), the nasty notes that must appear, and the tasks
and tags each tracker uses. The people and clients themselves are in agency.json.

    >>> sorted(ROLE_MIX) == sorted(ROLE_RATES) == sorted(COST_RATES)
    True
    >>> set(CLEAR) == set(VAGUE) == set(HARVEST_TASKS) == set(CLOCKIFY_TASKS)
    True
"""

from __future__ import annotations

from decimal import Decimal

CURRENCY_NAMES = {
    "USD": "United States Dollar - USD",
    "EUR": "Euro - EUR",
    "GBP": "British Pound - GBP",
    "CAD": "Canadian Dollar - CAD",
}
# Hourly rates the trackers carry (USD); other currencies scale by a rough factor, rounded to 5.
ROLE_RATES = {
    "Principal Engineer": 185, "Senior Developer": 160, "Developer": 135, "Junior Developer": 95,
    "QA Engineer": 110, "Project Manager": 125, "DevOps Engineer": 155, "Account Director": 175,
    "Designer": 120, "Senior Designer": 150, "Content Strategist": 105, "Data Analyst": 130,
}
COST_RATES = {
    "Principal Engineer": 95, "Senior Developer": 80, "Developer": 65, "Junior Developer": 42,
    "QA Engineer": 52, "Project Manager": 60, "DevOps Engineer": 78, "Account Director": 90,
    "Designer": 55, "Senior Designer": 72, "Content Strategist": 48, "Data Analyst": 62,
}
FX = {"USD": Decimal("1"), "EUR": Decimal("0.9"), "GBP": Decimal("0.8"), "CAD": Decimal("1.35")}

# What each role spends its time on (weights).
ROLE_MIX: dict[str, dict[str, int]] = {
    "Principal Engineer": {"Development": 35, "Maintenance": 10, "Strategy": 10, "Meetings": 10, "DevOps": 7,
                           "Project Management": 4, "Support": 4, "Internal": 8, "Sales": 6, "Training": 3},
    "Senior Developer": {"Development": 45, "Maintenance": 15, "Meetings": 8, "Support": 6, "DevOps": 5, "QA": 4,
                         "Internal": 8, "Training": 3},
    "Developer": {"Development": 48, "Maintenance": 15, "Meetings": 6, "Support": 8, "QA": 5, "Internal": 8,
                  "Training": 4},
    "Junior Developer": {"Development": 44, "Maintenance": 12, "QA": 8, "Support": 8, "Meetings": 5,
                         "Internal": 8, "Training": 10},
    "QA Engineer": {"QA": 55, "Maintenance": 8, "Meetings": 8, "Support": 8, "Project Management": 4,
                    "Internal": 8, "Training": 3},
    "Project Manager": {"Project Management": 45, "Meetings": 25, "Strategy": 6, "Support": 6, "Internal": 10,
                        "Sales": 4},
    "DevOps Engineer": {"DevOps": 55, "Maintenance": 15, "Support": 6, "Meetings": 5, "Development": 6,
                        "Internal": 8, "Training": 3},
    "Account Director": {"Meetings": 25, "Strategy": 20, "Sales": 18, "Project Management": 15, "Internal": 12,
                         "Content": 3},
    "Designer": {"Design": 60, "Meetings": 10, "Content": 5, "Support": 5, "Internal": 8, "Training": 4},
    "Senior Designer": {"Design": 55, "Strategy": 8, "Meetings": 12, "Internal": 8, "Sales": 4, "Training": 3},
    "Content Strategist": {"Content": 55, "Strategy": 12, "Meetings": 10, "Support": 6, "Internal": 8, "Design": 3},
    "Data Analyst": {"Data & Analytics": 55, "Strategy": 8, "Meetings": 8, "Development": 8, "Support": 5,
                     "Internal": 8, "Training": 4},
}
NON_BILLABLE = {"Internal", "Sales", "Training"}

FEATURES = [
    "checkout", "cart", "login", "search", "dashboard", "nav", "header", "footer", "API", "onboarding flow",
    "settings page", "notifications", "reports page", "booking form", "payment step", "user profile",
    "CSV export", "admin panel", "product page", "signup", "password reset", "invoice view", "map widget",
]
NAMES = ["maya", "ben", "ana", "grace", "hugo", "jonas", "keiko", "liam", "noah", "rosa", "isla", "pablo"]

# Per category: notes that carry a telling word, and notes that say little (the context must decide).
# Placeholders: {t} ticket id, {f} feature, {w} colleague, {c} client short name, {n} a number.
CLEAR: dict[str, list[str]] = {
    "Development": [
        "implement {f}", "{t} build {f} endpoint", "refactor {f} module", "code review PR #{n}", "{t} {f} - wip",
        "feature: {f}", "integrate stripe webhooks", "dev {f}", "PR review + merge", "implementing {f} (part 2)",
        "wired up {f} to backend", "{t} new {f} component", "frontend work on {f}", "backend for {f}",
        "pairing w/ {w} on {f} feature", "graphql resolvers for {f}",
    ],
    "Design": [
        "wireframes for {f}", "mockups v2 {f}", "figma - {f} screens", "design system tokens", "prototype {f} flow",
        "icon set for {c}", "UI polish {f}", "moodboard", "user research session #{n}", "redlines for devs",
        "hi-fi mockups, {f} + {f}", "design review {f}", "style guide updates",
    ],
    "Project Management": [
        "PM stuff", "sprint planning", "backlog grooming", "status report", "weekly status email to client",
        "jira cleanup", "timeline update", "resourcing + scheduling", "project plan {c}", "sprint retro notes",
        "PM - budget tracking", "updating project board",
    ],
    "Meetings": [
        "mtg w/ client re: Q4", "weekly sync w/ {c}", "client call", "standup w/ client team", "demo to stakeholders",
        "kickoff call", "call w/ {c} team re {f}", "meeting w/ {c} product owner", "sprint demo w/ client",
        "client mtg", "call with {c} about {f}",
    ],
    "QA": [
        "test plan for {f}", "manual testing {f}", "UAT support", "cypress e2e tests", "QA pass on {f}",
        "smoke test staging", "testing {t}", "writing test cases {f}", "regression run before release",
        "QA {f}", "test automation - {f}", "cross-browser testing",
    ],
    "Maintenance": [
        "{t} fix null ptr on checkout", "bug fix - {f}", "hotfix prod {f}", "regression in {f} after deploy",
        "bumped deps", "security patch (npm audit)", "fixing {f} bug", "{t} bugfix", "patch for {f} crash",
        "upgrade django 4.2 -> 5.0", "dependency updates", "{t} hot fix {f}", "fix broken {f}",
    ],
    "Support": [
        "client request: change banner text", "answered support tickets", "help {w} w/ login issue", "ticket queue",
        "{t} user can't reset password", "config change per client email", "support", "helpdesk",
        "support ticket {t}", "client asked to update footer links",
    ],
    "DevOps": [
        "CI pipeline fix", "deploy to prod", "terraform for {f}", "k8s upgrade", "set up monitoring alerts",
        "github actions cache", "docker compose cleanup", "staging env setup", "SSL cert renewal", "dns change",
        "deployment + rollback plan", "AWS infra - RDS sizing", "CI/CD for {c}",
    ],
    "Content": [
        "copy for landing page", "blog post draft", "SEO copy {f}", "editing case study", "CMS entry - {n} products",
        "content audit", "newsletter copy", "proofreading {f} copy", "copywriting - about page", "content calendar",
    ],
    "Strategy": [
        "discovery workshop", "roadmap Q1 2027", "analytics review", "UX audit findings", "competitor research",
        "strategy deck", "tech audit {c}", "prioritization workshop", "discovery interviews",
    ],
    "Data & Analytics": [
        "dashboard for {f} KPIs", "GA4 tracking plan", "ETL job {f}", "SQL report monthly", "looker dashboard",
        "data pipeline - {f}", "analysis of funnel drop-off", "bigquery export", "tracking plan v2",
        "reporting {c} metrics",
    ],
    "Internal": [
        "team mtg", "1:1 w/ {w}", "internal standup", "timesheets", "all hands", "internal tooling",
        "laptop setup", "hiring - interview", "agency admin", "internal retro",
    ],
    "Sales": [
        "proposal for phase 2", "estimate for new SOW", "pitch deck", "pre-sales call", "RFP response",
        "scoping call w/ prospect", "estimate {f} change request", "proposal {c} 2027",
    ],
    "Training": [
        "learning Next.js", "conference talk videos", "course: AWS cert", "onboarding docs reading",
        "react workshop", "tutorial - playwright", "training: figma variables", "reading up on k8s",
    ],
}
VAGUE: dict[str, list[str]] = {
    "Development": ["{t}", "{f}", "continued", "wip", "sprint work", "coding 💻", "{f} stuff", "more {f}",
                    "{t} cont'd", "tickets"],
    "Design": ["{f} screens", "iterations", "feedback round", "review w/ {w}", "🎨", "revisions", "v3"],
    "Project Management": ["admin", "emails", "coordination", "planning", "misc", "follow ups"],
    "Meetings": ["call", "sync", "catch up", "{c}", "weekly", "check-in"],
    "QA": ["verified fixes", "checked {t}", "{f} - looks ok now", "went through {f}", "{t} verify"],
    "Maintenance": ["fixes", "{t}", "investigating issue w/ {f}", "fixd broken {f}", "{f} not loading on safari",
                    "looked into errors", "{t} - done"],
    "Support": ["emails w/ client", "quick change", "misc", "{c} requests", "help {w}"],
    "DevOps": ["infra", "ops", "deployment issues", "server stuff", "pipeline"],
    "Content": ["writing", "edits", "{f} text", "drafts"],
    "Strategy": ["thinking about {f}", "deck", "research", "notes from workshop"],
    "Data & Analytics": ["numbers for {w}", "report", "queries", "{f} data"],
    "Internal": ["misc", "", "internal", "admin", "emails"],
    "Sales": ["call", "estimate", "prep", "{c} follow up"],
    "Training": ["learning", "reading", "course"],
}
# How often a note is vague, per category (the rest carry a telling word).
VAGUE_SHARE = 0.4

# Notes that must appear somewhere: the nasty cases an importer and a sheet writer must keep as text.
SPECIAL_NOTES: list[tuple[str, str]] = [
    ("-fixed header", "Maintenance"),
    ("@maya review mockups", "Design"),
    ("=SUM(A1) test formula", "Data & Analytics"),
    ("+1 on PR, merged", "Development"),
    ("ACME-1423 fix null ptr on checkout", "Maintenance"),
    ('reviewed "final" designs, left comments', "Design"),
    ("mtg w/ client re: Q4\n- budget\n- timeline", "Meetings"),
    ("release notes:\n1) cart fix\n2) perf", "Maintenance"),
    ("", "Development"),
    ("misc", "Internal"),
    ("PM stuff", "Project Management"),
    ("🚀 launch prep, final checks", "QA"),
]

HARVEST_TASKS = {
    "Development": ["Development"], "Design": ["Design"], "Project Management": ["Project Management"],
    "Meetings": ["Meetings"], "QA": ["QA"], "Maintenance": ["Development", "Development", "Support"],
    "Support": ["Support"], "DevOps": ["DevOps", "Development"], "Content": ["Copywriting"],
    "Strategy": ["Project Management", "Meetings"], "Data & Analytics": ["Development", "Data"],
    "Internal": ["Non-billable"], "Sales": ["Business Development", "Non-billable"], "Training": ["Non-billable"],
}
CLOCKIFY_TASKS = {
    "Development": ["Backend", "Frontend"], "Maintenance": ["Backend", "Frontend", "Bugs"], "QA": ["Testing"],
    "Design": ["Design"], "Meetings": ["Meetings", ""], "Project Management": [""], "Support": ["Support", ""],
    "DevOps": [""], "Content": [""], "Strategy": [""], "Data & Analytics": [""], "Internal": [""], "Sales": [""],
    "Training": [""],
}
TOGGL_TAGS = {
    "Design": ["design", "revisions", "client-feedback"], "Meetings": ["meeting"], "Content": ["copy", "seo"],
    "Project Management": ["pm"], "Internal": ["internal"], "Sales": ["presales"], "Support": ["support"],
    "Strategy": ["workshop"], "Training": ["learning"],
}
