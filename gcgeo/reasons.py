"""The analyses' reasons (why a rule failed or is unknown) in the report's language.

The inventory checks write their ``<rule>_reason`` in English (the words of
the log and of the CLI).  A Chinese report shows them through this table of
patterns, one per sentence the analyses write; a reason made of several
sentences (joined by ``; ``) is translated part by part, and a sentence no
pattern knows is shown as it is.  An English report shows them as written,
but with the living-circle categories' labels where a sentence names them by
their codes (:data:`ENGLISH`).

>>> reason_text("3 of 31 residential building(s) farther than 70 m walk from a sorting point "
...             "(90% served, 100% required)", "zh")
'31栋住宅楼中有3栋步行70米内无垃圾分类投放点（覆盖90%，要求100%）'
>>> reason_text("0% < 30%; no heritage feature recorded in the community", "zh")
'0% < 30%；社区内未登记历史文化遗产'
>>> reason_text("kindergarten: capacity not given (each facility counted as 1)", "zh")
'幼儿园：未提供容量（每处设施按1计）'
>>> reason_text("no heritage feature recorded in the community", "en")
'no heritage feature recorded in the community'
>>> reason_text("12% of residents have every required category within its tier distance "
...             "(100% required); fewest reached: kindergarten 41.2%, elderly_care 45.3%", "en")
'12% of residents have every required category within its tier distance (100% required); \
fewest reached: Kindergarten 41.2%, Elderly day care 45.3%'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

__all__ = ["ENGLISH", "REASONS", "reason_text"]


def _layers_listed(text: str) -> str:
    """'buildings 2, parking 1' or 'buildings, parking' with the layers' Chinese labels."""
    from .names import layer_label

    out = []
    for part in text.split(", "):
        name, _, n = part.partition(" ")
        out.append(f"{layer_label(name, 'zh')}{' ' + n if n else ''}")
    return "、".join(out)


def _category(code: str, lang: str = "zh") -> str:
    """A living-circle category's label (Chinese by default)."""
    from .names import category_label

    return category_label(code, lang)


def _covers(m: re.Match) -> str:
    what = m.group(3)
    for pat, zh in _COVER_FAILS:
        hit = re.fullmatch(pat, what)
        if hit:
            return f"{m.group(2)}个井盖中有{m.group(1)}个{zh.format(*hit.groups())}"
    return m.group(0)


#: What the manhole rules say of the covers failing them ("{bad} of {n} covers …").
_COVER_FAILS: tuple[tuple[str, str], ...] = (
    (r"have no manager or no contact", "无管理人或无联系方式"),
    (r"have no manager", "无管理人"),
    (r"have no recorded owner", "未登记权属单位"),
    (r"have no code or share one", "无编号或编号重复"),
    (r"are faulty \(damaged, missing, sunken…\)", "存在病害（破损、缺失、沉陷等）"),
    (r"of the kinds (.+) have no fall-prevention net", "（{0}类）未安装防坠网"),
    (r"were last inspected more than (\d+) days before (\S+)", "最近一次巡检距{1}超过{0}天"),
    (r"have no record of (.+)", "未记录{0}"),
)

_Sub = str | Callable[[re.Match], str]

# the sentences naming living-circle categories (criterion 10, supply)
_NO_FACILITY = (r"no ([\w, ]+) facility in the data; add them to the facilities layer or attest "
                r"the criterion")
_FEWEST = r"fewest reached: (.+)"
# (a community that fails on the categories the data hold, whatever the missing ones hold)
_AT_MOST = (r"at most ([\d.]+)% of residents can have every required category within its tier "
            r"distance \(([\d.]+)% required\): ([\d.]+)% have those the data hold within the "
            r"(\d+)min tier")
_NO_FACILITY_ONLY = r"no ([\w, ]+) facility in the data"
_NO_CAPACITY = r"(\w+): capacity not given \(each facility counted as 1\)"
_NO_RESIDENTS = r"(\w+): no residents"
_BELOW_NORM = r"(\w+) ([\d.]+) < ([\d.]+) per 1000 residents"


def _shares(text: str) -> list[tuple[str, str]]:
    """'kindergarten 41.2%, pharmacy 50%' as (category, share) pairs."""
    return [(c, v) for c, _, v in (p.rpartition(" ") for p in text.split(", "))]

def _analysis_label(name: str) -> str:
    from . import analysis

    return analysis.get(name).label_zh if name in analysis.names() else name


_PROBLEM_ZH = {"is gone": "已不存在", "is no longer valid": "已无效", "was edited since": "此后已修改"}


def _run_rules(m: re.Match) -> str:
    """Why the rules an analysis ran with are not shown (:func:`gcgeo.pipeline.run_rules`)."""
    return (f"“{_analysis_label(m.group(2))}”分析运行时所用的规则文件 {m.group(1)} {_PROBLEM_ZH[m.group(3)]}，"
            "故不显示其采用的标准值与依据条款；请重新运行该分析（gcgeo analyze … --rules 规则文件）")


#: (pattern matching a whole sentence, Chinese template or function).
REASONS: tuple[tuple[str, _Sub], ...] = (
    # the rules a stored result ran with (gcgeo.pipeline.run_rules)
    (r"the rules file (.+) that the (\w+) analysis ran with (is gone|is no longer valid|was edited since), "
     r"so the rules it applied \(thresholds and clauses\) are not shown: run the analysis again "
     r"\(gcgeo analyze … --rules FILE\)", _run_rules),
    (r"the built-in rules changed since the (\w+) analysis ran \(a new gcgeo version\), so the rules it "
     r"applied \(thresholds and clauses\) are not shown: run the analysis again",
     lambda m: f"“{_analysis_label(m.group(1))}”分析运行后gcgeo内置规则已更新（gcgeo新版本），"
     "故不显示其采用的标准值与依据条款；请重新运行该分析"),
    # garbage, chargers
    (r"no residential buildings in the community", "社区内无住宅楼"),
    (r"(\d+) of (\d+) residential building\(s\) farther than ([\d.]+) m walk from a sorting point "
     r"\((\d+)% served, (\d+)% required\)", r"\2栋住宅楼中有\1栋步行\3米内无垃圾分类投放点（覆盖\4%，要求\5%）"),
    (r"(\d+) of (\d+) residential building\(s\) farther than ([\d.]+) m walk from e-bike charging "
     r"\((\d+)% served, (\d+)% required\)", r"\2栋住宅楼中有\1栋步行\3米内无电动自行车充电设施（覆盖\4%，要求\5%）"),
    (r"no streets layer, so walks cannot be measured; add the walking network with (.+)",
     r"缺少道路图层，无法计算步行距离；请补充步行路网（\1）"),
    (r"layer 'garbage_points' holds no sorting point \((\d+) point\(s\) of other kinds\).*",
     r"垃圾分类投放点图层中没有分类投放点（另有\1个其他类型的点）；若确实没有，则无住宅楼被覆盖——请补充投放点，或在规则中计入更多类型"),
    (r"(\d+) e-bike charger\(s\) inside residential buildings", r"住宅楼内有\1处电动自行车充电设施"),
    (r"(\d+) of (\d+) spaces EV-ready \((\d+)% < (\d+)%\)", r"\2个车位中有\1个建设或预留充电设施（\3% < \4%）"),
    (r"no car parking recorded in the community \(layer 'parking'\)", "社区内未登记停车场"),
    (r"capacity missing or unreadable for parking (.+)", r"停车场\1的车位数缺失或无法识别"),
    (r"the community's car parking has 0 spaces", "社区停车场车位数为0"),
    (r"EV-ready spaces not recorded for parking (.+?); the chargers standing in them give at least "
     r"(\d+)% \((\d+)% required\)", r"停车场\1未记录充电车位数；按其中的充电设施计至少为\2%（要求\3%）"),
    (r"no parking layer: add it with (`[^`]+`).*", r"缺少停车场图层：请用\1添加（含车位数、充电车位数）"),
    (r"no buildings layer: add it with (`[^`]+`).*", r"缺少建筑图层：请用\1添加（含用途）"),
    (r"layer 'chargers' has no 'kind' column.*",
     "充电设施图层缺少类型列，无法区分电动自行车与汽车充电设施；请补充类型（汽车 / 电动自行车）后重新添加"),
    (r"layer 'chargers' records no e-bike charger \(if there is none, no home is served\).*",
     "充电设施图层中没有电动自行车充电设施（若确实没有，则无住宅楼被覆盖）；请补充"),
    (r"layer 'chargers' records no e-bike charger \(none can be checked\).*",
     "充电设施图层中没有电动自行车充电设施（无从检查）；请补充"),
    # heritage
    (r"no heritage feature recorded in the community", "社区内未登记历史文化遗产"),
    (r"(\d+) intrusion\(s\) into (\d+) of (\d+) protection zone\(s\): (.+)",
     lambda m: f"{m.group(3)}处保护范围中有{m.group(2)}处被侵入，共{m.group(1)}处：{_layers_listed(m.group(4))}"),
    (r"protection zone of (.+) cannot be drawn", r"无法划定\1的保护范围"),
    (r"no buildings layer: intrusions by buildings not checked", "缺少建筑图层，未检查建筑侵入"),
    (r"not checked \(no layer\): (.+)", lambda m: f"缺少图层、未检查：{_layers_listed(m.group(1))}"),
    # property
    (r"property management not recorded for the community or its buildings", "社区及其建筑均未记录物业管理情况"),
    # manholes
    (r"no manholes recorded in the community", "社区内未登记窨井盖"),
    (r"no covers of the kinds this rule applies to", "无此项适用类型的井盖"),
    (r"(\d+) of (\d+) covers (.+)", _covers),
    (r"the manholes layer has no '\w+' \((.+?)\) column; add it to decide this rule",
     r"窨井盖图层缺少“\1”列，补充后才能判定此项"),
    # ramps
    (r"(\d+) of (\d+) ramps too steep: (.+)", r"\2处缘石坡道中有\1处坡度过陡：\3"),
    (r"(\d+) of (\d+) ramps too narrow: (.+)", r"\2处缘石坡道中有\1处宽度不足：\3"),
    (r"(\d+) of (\d+) ramps with a lip over the limit: (.+)", r"\2处缘石坡道中有\1处坡口高差超限：\3"),
    (r"(\d+) of (\d+) crossings missing a kerb ramp at an end: (.+)", r"\2处人行横道中有\1处端部缺少缘石坡道：\3"),
    (r"(\d+) of (\d+) not checked: a full-width ramp is as wide as its footway \(§3\.1\.3 \(1\)\), not recorded"
     r"(?:; a flush kerb has no opening)?",
     r"\2处中有\1处未检查：全宽式缘石坡道与人行道同宽（第3.1.3条第1款），未记录人行道宽度"),
    (r"a flush kerb has no opening", "平缘石无坡口"),
    (r"no crossings recorded \(.*\)", "未登记人行横道"),
    (r"(\d+) of (\d+) not known \(([^)]*)\)", r"\2处中有\1处无法判断（\3）"),
    (r"slope not recorded", "未记录坡度"),
    (r"width not recorded", "未记录宽度"),
    (r"lip not recorded", "未记录坡口高差"),
    (r"(slope|width|lip) '(.+)' cannot be read",
     lambda m: f"{ {'slope': '坡度', 'width': '宽度', 'lip': '坡口高差'}[m.group(1)]}“{m.group(2)}”无法识别"),
    # green
    (r"green ratio ([\d.]+%) (≥|<) ([\d.]+%) required( \(old estate\))?",
     lambda m: f"绿地率{m.group(1)}，{'不低于' if m.group(2) == '≥' else '低于'}要求{m.group(3)}"
     + ("（老旧小区）" if m.group(4) else "")),
    (r"the community has no area", "社区面积为0"),
    (r"population missing", "人口缺失"),
    (r"population is 0", "人口为0"),
    (r"population negative", "人口为负数"),
    (r"no population column", "缺少人口列"),
    (r"no sports grounds in the green_space layer \(kind sports\): the share is unknown",
     "绿地图层中没有运动场地，比例未知"),
    (r"no public green space in the green_space layer", "绿地图层中没有公共绿地"),
    # supply (capacity against norms per 1000 residents)
    (r"capacity not given \(each facility counted as 1\)", "未提供容量（每处设施按1计）"),
    (r"no residents", "无居民"),
    (r"([\d.]+) < ([\d.]+) per 1000 residents", r"每千人\1，低于指标\2"),
    (r"no category has a norm in the rules \(supply norms\.<category>\)",
     "规则中没有任何类别的千人指标（supply norms.<类别>）"),
    # living circle, criterion 10
    (r"([\d.]+)% of residents have every required category within its tier distance "
     r"\(([\d.]+)% required\)", r"各类设施均在其层级步行距离内的居民占\1%（要求\2%）"),
    (_NO_FACILITY, lambda m: "数据中没有" + "、".join(_category(c) for c in m.group(1).split(", "))
     + "设施；请补充设施图层，或认定该项"),
    (_AT_MOST, r"各类设施均在其层级步行距离内的居民至多占\1%（要求\2%）：仅计数据中已有的类别，\4分钟层级也只有\3%"),
    (_NO_FACILITY_ONLY, lambda m: "数据中没有" + "、".join(_category(c) for c in m.group(1).split(", "))
     + "设施"),
    (r"no homes in the community", "社区内无居住点"),
    (_FEWEST, lambda m: "覆盖最少：" + "、".join(
        f"{_category(c)}{v}" for c, v in _shares(m.group(1)))),
    (_NO_CAPACITY, lambda m: f"{_category(m.group(1))}：未提供容量（每处设施按1计）"),
    (_NO_RESIDENTS, lambda m: f"{_category(m.group(1))}：无居民"),
    (_BELOW_NORM, lambda m: f"{_category(m.group(1))}每千人{m.group(2)}，低于指标{m.group(3)}"),
)

#: The English sentences that name living-circle categories by their codes, with the
#: categories' English labels instead (the other sentences are shown as written).
ENGLISH: tuple[tuple[str, _Sub], ...] = (
    (_NO_FACILITY, lambda m: f"no {', '.join(_category(c, 'en') for c in m.group(1).split(', '))} "
     "facility in the data; add them to the facilities layer or attest the criterion"),
    (_NO_FACILITY_ONLY, lambda m: f"no {', '.join(_category(c, 'en') for c in m.group(1).split(', '))} "
     "facility in the data"),
    (_FEWEST, lambda m: "fewest reached: " + ", ".join(
        f"{_category(c, 'en')} {v}" for c, v in _shares(m.group(1)))),
    (_NO_CAPACITY, lambda m: f"{_category(m.group(1), 'en')}: capacity not given "
     "(each facility counted as 1)"),
    (_NO_RESIDENTS, lambda m: f"{_category(m.group(1), 'en')}: no residents"),
    (_BELOW_NORM, lambda m: f"{_category(m.group(1), 'en')} {m.group(2)} < {m.group(3)} "
     "per 1000 residents"),
)

@cache
def _compiled(lang: str) -> list[tuple[re.Pattern[str], _Sub]]:
    """:data:`REASONS` or :data:`ENGLISH` compiled, the first time a reason is put in
    ``lang`` (compiling them all took 0.04 s of every command's start)."""
    return [(re.compile(p), sub) for p, sub in (REASONS if lang == "zh" else ENGLISH)]


def _sentence(text: str, lang: str) -> str:
    for pat, sub in _compiled(lang):
        m = pat.fullmatch(text)
        if m:
            return sub(m) if callable(sub) else m.expand(sub)
    return text


def reason_text(text: str, lang: str = "zh") -> str:
    """``text`` (a reason an analysis wrote) in ``lang``: Chinese through :data:`REASONS`,
    English as written but with the categories' labels for their codes (:data:`ENGLISH`)."""
    if lang not in ("zh", "en") or not text or not re.search(r"[A-Za-z]", text):
        return text
    whole = _sentence(text.strip(), lang)
    if whole != text.strip():
        return whole
    parts = re.split(r";\s+", text.strip())
    return ("；" if lang == "zh" else "; ").join(_sentence(p, lang) for p in parts)
