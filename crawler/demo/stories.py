"""The stories the local news web publishes (our own texts), and the reference article's parts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Story:
    """One article as the news web publishes it."""

    path: str
    title: str
    paragraphs: tuple[str, ...]
    author: str = "Staff"
    published: str = "2025-07-22T09:00:00+00:00"  # ISO 8601 with offset
    tags: tuple[str, ...] = field(default_factory=tuple)
    source_line: str | None = None
    updated: str | None = None  # when the story was last changed (ISO 8601), if after publication


@dataclass(frozen=True)
class ReferenceParts:
    """The reference article split into its title, story paragraphs and source line."""

    title: str
    paragraphs: tuple[str, ...]
    source_line: str


def split_reference(text: str) -> ReferenceParts:
    """Split the reference text: title first, the story between the first two 'Share' lines, source line last."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    shares = [i for i, line in enumerate(lines) if line == "Share"]
    if len(shares) < 2:
        raise ValueError("reference article: expected the story between two 'Share' lines")
    story = lines[shares[0] + 1 : shares[1]]
    return ReferenceParts(lines[0], tuple(story[:-1]), story[-1])


STAND_IN_REFERENCE = ReferenceParts(
    title="Algeria and Tunisia agree to reopen desert border crossing",
    paragraphs=(
        "Algeria and Tunisia have agreed to reopen the Hazoua desert border crossing to trucks and travellers "
        "from next month, officials in both capitals said on July 23rd, according to the Middle East Eye.",
        "The crossing was closed in March after clashes between smugglers and border guards left three dead "
        "and prompted both governments to tighten controls along the frontier.",
        "“Trade between our two peoples is older than any border,” said a spokesperson for the Tunisian "
        "interior ministry, adding that new scanners would speed up inspections.",
        "Truck drivers told Reuters in June that the closure had doubled the cost of moving dates and "
        "phosphate between the two countries, forcing some firms to route goods through Libya.",
        "Algerian customs officials said to the Associated Press earlier this week that a joint patrol "
        "would operate on both sides of the crossing during the first months after it reopens.",
        "Neither government has said how many guards will be deployed.",
    ),
    source_line="Middle East Eye, Maghreb Ledger, Associated Press, Reuters",
)


def reference_parts(path: Path | None) -> ReferenceParts:
    """The reference article from `path` when given and readable, else our stand-in of the same shape."""
    if path is None:
        return STAND_IN_REFERENCE
    try:
        return split_reference(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("reference article %s unusable (%s); serving the stand-in", path, exc)
        return STAND_IN_REFERENCE


WIRE_STORY = (
    "Flash floods swept through three coastal towns in eastern Libya on Tuesday after a night of torrential "
    "rain, cutting roads and forcing hundreds of families from their homes, local officials said.",
    "Rescue teams used fishing boats to reach residents trapped on rooftops in the town of Susa, where the "
    "water rose more than a metre within an hour, the municipal council said in a statement.",
    "The national meteorological centre had warned of heavy rain on Monday but said the volume that fell "
    "overnight was twice the forecast, overwhelming drainage channels that were never repaired after the "
    "2023 disaster in Derna.",
    "No deaths had been reported by Tuesday evening, but health officials said at least 40 people were "
    "treated for injuries and exposure.",
)

MAGHREB_STORIES = (
    Story(
        "/2025/07/22/morocco-switches-on-new-phase-of-desert-solar-complex/",
        "Morocco switches on new phase of desert solar complex",
        (
            "Morocco has connected the second phase of its Midelt solar complex to the national grid, adding "
            "enough capacity to supply around 400,000 homes, the energy ministry said on Tuesday.",
            "The plant combines photovoltaic panels with thermal storage so that it can keep delivering power "
            "for several hours after sunset, a design engineers say suits the country's evening demand peak.",
            "Officials said the kingdom now generates close to 40 percent of its electricity from renewable "
            "sources and aims to pass 52 percent before the end of the decade.",
        ),
        author="Salma Idrissi",
        published="2025-07-22T10:30:00+01:00",
        tags=("Morocco", "Energy"),
    ),
    Story(
        "/2025/07/22/libya-floods-coastal-towns/",
        "Flash floods hit coastal towns in eastern Libya",
        WIRE_STORY,
        author="Wire Desk",
        published="2025-07-22T18:00:00+00:00",
        tags=("Libya", "Weather"),
    ),
)

WIRE_STORIES = (
    Story(
        "/news/turkey-syria-drone-maintenance-deal",
        "Turkey and Syria sign drone maintenance agreement",
        (
            "Turkey and Syria signed an agreement on Wednesday under which Turkish firms will maintain drones "
            "and radar systems operated by the Syrian army, the two defence ministries said.",
            "The deal, signed in Ankara, also covers the training of Syrian technicians at Turkish facilities "
            "over the next two years, according to a joint statement.",
            "Analysts said the agreement deepens military ties that have grown quickly since the fall of the "
            "previous government in Damascus last December.",
        ),
        author="Kerem Aydin",
        published="2025-07-23T14:05:00+03:00",
        tags=("Turkey", "Syria", "Defence"),
    ),
    Story(
        "/news/libya-floods-coastal-towns",
        "Libya: floods cut roads and force families from homes",
        WIRE_STORY,
        author="Wire Desk",
        published="2025-07-22T19:30:00+00:00",
        tags=("Libya",),
    ),
    Story(
        "/news/gulf-markets-rally-on-oil-prices",
        "Gulf markets rally as oil prices climb",
        (
            "Stock markets across the Gulf closed higher on Thursday as oil prices rose for a third day on "
            "expectations of tighter supply, with Saudi Arabia's main index gaining 1.4 percent.",
            "Banks and petrochemical companies led the gains in Riyadh, while Dubai's index rose 0.9 percent "
            "helped by property developers.",
            "Brent crude futures were up 1.2 percent at midday, trading above 74 dollars a barrel for the first "
            "time in three weeks.",
        ),
        author="Nadia Haddad and Omar Saleh",
        published="2025-07-24T12:15:00+04:00",
        tags=("Markets", "Oil"),
    ),
)

ATOM_STORIES = (
    Story(
        "/stories/fishermen-protest-new-quotas",
        "Fishermen protest new sardine quotas in Agadir",
        (
            "Hundreds of fishermen blocked the port of Agadir with their boats to protest against new sardine "
            "quotas which they say will halve their income during the summer season.",
            "The fisheries ministry set the limits after scientists warned that sardine stocks along the "
            "Atlantic coast had fallen to their lowest level in twenty years.",
            "Union leaders said they would keep the port closed until the ministry agreed to compensation for "
            "crews that cannot fish their usual catch, according to Desert Wire.",
        ),
        author="Youssef Amrani",
        published="2025-07-23T08:00:00+00:00",
        tags=("Fisheries",),
    ),
    Story(
        "/stories/tunis-metro-extension-opens",
        "Tunis opens first extension of its light rail network in a decade",
        (
            "The first extension of the Tunis light rail network in more than a decade opened to passengers on "
            "Tuesday, linking the city centre to the fast-growing suburb of Ennasr.",
            "Transport officials said the six-kilometre line would carry up to 30,000 passengers a day and "
            "cut travel times across the north of the capital by half.",
            "Commuters on the first trains complained of crowding but welcomed air-conditioned carriages in "
            "the summer heat.",
        ),
        author="Leila Ben Salem",
        published="2025-07-22T08:00:00+00:00",
        tags=("Tunisia", "Transport"),
    ),
)

# The wire story a third time: Atlas Review rewrites the headline and lede, cuts the last paragraph
# and credits Desert Wire, so Desert Wire's copy is the story's original though published later.
ATLAS_WIRE_COPY = Story(
    "/stories/libya-coast-floods",
    "Hundreds flee as floods swamp Libyan coast",
    (
        "Hundreds of families fled their homes in three coastal towns of eastern Libya on Tuesday after flash "
        "floods swept through overnight, local officials said.",
        *WIRE_STORY[1:3],
        "Desert Wire reported the floods first.",
    ),
    author="Atlas Review staff",
    published="2025-07-22T21:00:00+00:00",
    tags=("Libya",),
)

ARABIC_STORIES = (
    Story(
        "/akhbar/2025/economy-port-expansion",
        "توسعة ميناء طنجة المتوسط ترفع طاقته الاستيعابية",
        (
            "أعلنت السلطات المغربية يوم الأربعاء عن اكتمال المرحلة الأولى من توسعة ميناء طنجة المتوسط، ما يرفع "
            "طاقته الاستيعابية إلى أكثر من تسعة ملايين حاوية سنويا.",
            "وقال مسؤولون في الميناء إن التوسعة ستسمح باستقبال أكبر سفن الحاويات في العالم وتقليص مدة انتظار "
            "الشاحنات عند البوابات.",
            "ويعد الميناء من أكبر موانئ البحر الأبيض المتوسط ويربط المغرب بأكثر من مئة وثمانين ميناء حول العالم.",
        ),
        author="سمير الحسني",
        published="2025-07-23T14:30:00+00:00",
        tags=("اقتصاد",),
    ),
    Story(
        "/akhbar/2025/heatwave-warning",
        "تحذيرات من موجة حر شديدة في شمال أفريقيا",
        (
            "حذرت مصالح الأرصاد الجوية في عدة دول من شمال أفريقيا من موجة حر شديدة قد تتجاوز فيها درجات الحرارة "
            "خمسا وأربعين درجة مئوية خلال الأيام المقبلة.",
            "ودعت السلطات الصحية المواطنين إلى تجنب التعرض لأشعة الشمس في ساعات الذروة والإكثار من شرب الماء.",
            "ويأتي هذا التحذير بعد أسابيع من ارتفاع استهلاك الكهرباء إلى مستويات قياسية بسبب استعمال أجهزة التكييف.",
        ),
        author="ليلى بنعلي",
        published="2025-07-22T09:15:00+00:00",
        tags=("طقس",),
    ),
)

ARABIC_MONTHS = (
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
)
