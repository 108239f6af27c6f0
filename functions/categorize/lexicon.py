"""A small multilingual lexicon of agency work, so category meanings and keywords written in English also
recognise notes written in German or Spanish on the very first run (before any history exists).

Each group is one concept; a word of a category's meaning or keywords brings in the whole group.

    >>> sorted(expand(["bug"]))[:3]
    ['bug', 'bugfix', 'defect']
"""

from __future__ import annotations

from collections.abc import Iterable

GROUPS: tuple[frozenset[str], ...] = tuple(
    frozenset(g.split())
    for g in (
        "bug bugfix defect fix fixing error errors broken fehler beheben kaputt bugs error fallo fallos arreglar "
        "corregir hotfix regression",
        "meeting meetings call calls termin besprechung telefonat jour fixe reunión reunion llamada abstimmung",
        "client customer kunde kunden cliente clientes",
        "email emails mail mails correo correos",
        "estimate estimates quote angebot presupuesto offer",
        "coordination planning abstimmung koordination planung coordinación coordinacion planificación",
        "design diseño diseno gestaltung entwurf entwürfe screendesign",
        "wireframe wireframes mockup mockups prototype prototypes prototyp klickprototyp prototipo bocetos "
        "layout layouts pantallas screens",
        "logo logos bocetos marke brand marca branding styleguide guidelines manual",
        "packaging verpackung embalaje print druck reinzeichnung imprenta papelería",
        "develop development build implement code coding entwicklung umsetzen umsetzung bauen programmieren "
        "desarrollo maquetación maquetacion implementar frontend backend component components componentes",
        "api interface schnittstelle integration integración integracion anbinden",
        "maintenance wartung mantenimiento care pflege",
        "hosting server servidor backup backups sicherung ssl certificate zertifikat certificado domain domains "
        "dominio updates update wartung actualizaciones actualización plugin plugins monitoring",
        "copy text texte texts texto textos redacción redaccion texten schreiben writing write",
        "article articles blog blogartikel artículo articulo post",
        "translation translations übersetzung traducción traduccion proofreading korrektorat corrección",
        "newsletter newsletters boletín",
        "ads ad anzeigen anuncios campaign campaigns kampagne kampagnen campaña campañas adwords",
        "budget bidding gebote pujas bids",
        "optimisation optimization optimierung optimización optimizacion optimise optimize",
        "seo keyword keywords palabras clave backlinks ranking rankings verlinkung enlazado audit",
        "research recherche investigación investigacion",
        "video videos vídeo videoschnitt schnitt edición edicion edit editing montaje rodaje dreh shoot "
        "filming footage",
        "animation animación animacion motion intro",
        "report reports reporting monatsreport bericht informe informes",
        "dashboard dashboards tracking analytics analyse análisis analisis ga4 kpi conversion conversions",
        "internal intern intern interne interna interno team teammeeting",
        "timesheet timesheets stundenzettel zeiterfassung horas",
        "hiring interview bewerbungsgespräch entrevista recruiting",
        "training course kurs weiterbildung formación formacion schulung",
    )
)
_INDEX: dict[str, list[frozenset[str]]] = {}
for _g in GROUPS:
    for _w in _g:
        _INDEX.setdefault(_w, []).append(_g)


def expand(words: Iterable[str]) -> set[str]:
    """The words and every word that shares a concept group with one of them."""
    out: set[str] = set()
    for w in words:
        out.add(w)
        for g in _INDEX.get(w, ()):
            out |= g
    return out
