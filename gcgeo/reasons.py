"""The analyses' reasons (why a rule failed or is unknown) and findings' messages in the
report's language.

The inventory checks write their ``<rule>_reason`` and the ``message`` of each
finding in English (the words of the log and of the CLI; the workspace keeps
them so).  A Chinese page shows them through tables of patterns
(:data:`REASONS`, :data:`MESSAGES`), one per sentence the analyses write, the
codes in them (a manhole's kind, a ramp's form) by the layer specs' Chinese
spellings; a sentence made of several
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
>>> reason_text("cover MH001 (gas): no manager named", "zh")
'井盖MH001（燃气）：未指定管理人'
>>> reason_text("no heritage feature recorded in the community", "en")
'no heritage feature recorded in the community'
>>> reason_text("12% of residents have every required category within its tier distance "
...             "(100% required); fewest reached: kindergarten 41.2%, elderly_care 45.3%", "en")
'12% of residents have every required category within its tier distance (100% required); \
fewest reached: Kindergarten 41.2%, Elderly day care 45.3%'
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from functools import cache

__all__ = ["ENGLISH", "MESSAGES", "REASONS", "reason_text"]


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
            words = [_codes_listed("manholes", "kind", g) if "kinds" in pat
                     else _no_record(g) if "record" in pat else g for g in hit.groups()]
            return f"{m.group(2)}个井盖中有{m.group(1)}个{zh.format(*words)}"
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

#: What the manhole rules say covers have no record of ("{unknown} of {n} covers have no record of …"),
#: by the manholes layer's columns (:func:`gcgeo.analysis.manholes._evidence`).
_NO_RECORD: dict[str, tuple[str, ...]] = {
    "their manager": ("manager",), "their manager and contact": ("manager", "contact"),
    "their owner": ("owner",), "their code": ("code",), "their condition": ("condition",),
    "a fall-prevention net": ("fall_net",),
}


def _no_record(what: str) -> str:
    """What covers have no record of, in Chinese."""
    if what in _NO_RECORD:
        return "和".join(_column("manholes", c) for c in _NO_RECORD[what])
    m = re.fullmatch(r"an inspection on or before (\S+)", what)
    return f"{m[1]}及以前的巡检" if m else what


def _no_manhole_column(m: re.Match) -> str:
    """The manholes layer lacks the column(s) a rule needs ("'code' (井盖编号) or 'id' (编号)")."""
    joint = "”和“" if " and no " in m[1] else "”或“"
    labels = joint.join(re.findall(r"'\w+' \(([^)]*)\)", m[1]))
    return f"窨井盖图层缺少“{labels}”列，补充后才能判定此项"


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


def _ids(text: str, unit: str = "处", *, brackets: bool = True) -> str:
    """A list of ids as the analyses cut it ("R1, R2 and 3 more") in Chinese, counting the rest in
    ``unit``, in brackets or (where the list is in brackets already) after a comma."""
    m = re.fullmatch(r"(.+) and (\d+) more", text)
    if not m:
        return text
    return f"{m[1]}等（另有{m[2]}{unit}）" if brackets else f"{m[1]}等，另有{m[2]}{unit}"


def _heights() -> str:
    """'高度或层数': the buildings' columns a shadow is drawn from (height_m, floors)."""
    return f"{_column('buildings', 'height_m')}或{_column('buildings', 'floors')}"


def _quoted(text: str) -> str:
    """A value an analysis quoted (``repr``, or in single quotes) in Chinese quotation marks."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text[1:-1]
        text = str(value)
    return f"“{text}”"


def _spec_column(kind: str, column: str):
    from .layers import get_spec

    spec = get_spec(kind)
    return spec.column(column) if spec.has_column(column) else None


def _spelled(kind: str, column: str, code: str) -> str:
    """Code ``code`` of inventory column ``column`` as the layer spec spells it in Chinese
    (as :func:`gcgeo.labels.value_label` shows it; read from the spec here, which the
    labels read the reasons through)."""
    col = _spec_column(kind, column)
    if col is None:
        return code.replace("_", " ")
    if code in col.value_aliases:
        return col.value_aliases[code][0]
    return code.replace("_", " ") if col.allowed is not None else code


def _column(kind: str, column: str) -> str:
    """Column ``column`` of inventory layer ``kind`` by its Chinese label."""
    col = _spec_column(kind, column)
    return col.label_zh if col is not None else column


@cache
def zone_bases() -> dict[str, tuple[str, str]]:
    """Where a heritage feature's protection zone comes from (:func:`gcgeo.analysis.heritage.zones`'s
    ``zone_basis``), in (zh, en)."""
    from .layers import get_spec

    kinds = get_spec("heritage").column("kind").value_aliases
    return {"own radius": ("自身保护范围半径", "own radius"),
            "crown + margin": ("树冠投影外加保护距离", "crown + margin"),
            "no geometry": ("无几何图形", "no geometry"),
            "no protection_radius_m and no kind": ("无保护范围半径且无类型", "no protection_radius_m and no kind"),
            **{f"rule radius.{k}": (f"规则默认半径（{zh[0]}）", f"rule radius.{k}") for k, zh in kinds.items()}}


def _codes_listed(kind: str, column: str, text: str) -> str:
    """'sewer, drain' (codes of an inventory column) by their Chinese spellings."""
    return "、".join(_spelled(kind, column, c) for c in text.split(", "))


def _zone_basis(text: str) -> str:
    """Where a heritage zone comes from (:func:`gcgeo.analysis.heritage.zones`), in Chinese."""
    known = zone_bases().get(text)
    if known:
        return known[0]
    m = re.fullmatch(r"no protection_radius_m and kind (.+) is none of (.+)", text)
    if m:
        return (f"无{_column('heritage', 'protection_radius_m')}，且类型{_quoted(m[1])}不属于"
                f"{_codes_listed('heritage', 'kind', m[2])}")
    return "无" if text == "nothing" else text


def _form(text: str) -> str:
    """A ramp's form as a message writes it ("three-sided") by its Chinese label."""
    return _spelled("ramps", "kind", text.replace("-", "_"))


def _intruder(what: str) -> str:
    """What intrudes into a heritage zone ("fire lane") by its layer's Chinese label."""
    from .analysis.heritage import INTRUDERS
    from .names import layer_label

    layer = next((k for k, v in INTRUDERS.items() if v[2] == what), what)
    return layer_label(layer, "zh")


def _intrusion(m: re.Match) -> str:
    """A heritage finding: a feature inside a protection zone (:mod:`gcgeo.analysis.heritage`)."""
    (what, fid, area, length, dist, radius, kind, label, basis, depth) = m.groups()
    kind_zh = "历史文化遗产" if kind == "heritage feature" else _spelled("heritage", "kind", kind)
    zone = f"{kind_zh}{label}的{radius}米保护范围（{_zone_basis(basis)}）内"
    if area is not None:
        how = f"有{area}平方米位于{zone}"
    elif length is not None:
        how = f"有{length}米位于{zone}"
    else:
        how = f"距该遗产{dist}米，位于{zone}"
    return f"{_intruder(what)}{fid}{how}，深入{depth}米"


def _radius_unreadable(m: re.Match) -> str:
    values = "；".join(f"{_column('heritage', c)}{_quoted(v)}"
                      for c, v in (p.split(" ", 1) for p in m[1].split("; ")))
    basis = m[2]
    drawn = "保护范围无从划定" if basis == "nothing" else f"保护范围按{_zone_basis(basis)}划定"
    return f"{values}不是以米计的长度；{drawn}。请填写数字（如15或15米）。"


#: What a manhole finding says of its cover, after "cover <id> (<kind>): ".
_COVER_SAYS: tuple[tuple[str, _Sub], ...] = (
    (r"no manager named", "未指定管理人"),
    (r"manager (.+) has no contact", r"管理人\1无联系方式"),
    (r"no owner \(权属单位\) on record", "未登记权属单位"),
    (r"no code in its (\w+) column", lambda m: f"“{_column('manholes', m[1])}”列中无编号"),
    (r"code (.+) is also the code of (.+)",
     lambda m: f"编号{m[1]}与{'另一井盖' if m[2] == 'another cover' else m[2]}重复"),
    (r"the cover is (\w+)", lambda m: f"井盖{_spelled('manholes', 'condition', m[1])}"),
    (r"no fall-prevention net \(防坠网\)", "未安装防坠网"),
    (r"last inspected (\d+) days before (\S+) \(at most ([\d.]+)\)", r"最近一次巡检距\2已\1天（最多\3天）"),
    (r"inspected on (\S+), after the as-of date (\S+); not counted", r"巡检日期\1晚于评估基准日\2，不计入"),
)


def _cover(m: re.Match) -> str:
    for pat, sub in _COVER_SAYS:
        hit = re.fullmatch(pat, m[3])
        if hit:
            says = sub(hit) if callable(sub) else hit.expand(sub)
            return f"井盖{m[1]}（{_spelled('manholes', 'kind', m[2])}）：{says}"
    return m[0]


def _cover_unreadable(m: re.Match) -> str:
    col, want = m[2], m[4]
    if col in ("kind", "condition"):
        want = "以下之一：" + _codes_listed("manholes", col, want)
    else:
        want = {"有 / 无 (yes / no)": "有 / 无", "a date such as 2021-03-05": "日期，如2021-03-05"}.get(want, want)
    return f"井盖{m[1]}：{_column('manholes', col)}{_quoted(m[3])}无法识别；请填写{want}"


def _ramp_unreadable(m: re.Match) -> str:
    from .layers import get_spec

    how = {"slope": "请写作1:12、1/12、8%或0.083（大于1的数按百分数读）",
           "width_m": "请以米为单位填写（1.5或1.5米）",
           "lip_mm": "请以毫米为单位填写（10或10mm）",
           "kind": "请填写以下之一：" + "、".join(_spelled("ramps", "kind", k)
                                          for k in get_spec("ramps").column("kind").allowed or ())}[m[1]]
    return f"{_column('ramps', m[1])}{_quoted(m[2])}无法识别；{how}。"


def _charger_kind(m: re.Match) -> str:
    what = "为空" if m[1] == "blank" else _quoted(m[1])
    return (f"类型{what}既非{_spelled('chargers', 'kind', 'car')}也非{_spelled('chargers', 'kind', 'e-bike')}；"
            "该充电设施不计入任何规则")


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
     lambda m: f"缺少道路图层，无法计算步行距离；请补充步行路网（{m[1].replace('` or `', '`或`')}）"),
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
    (r"the manholes layer has no ('\w+' \([^)]*\)(?: (?:or|and no) '\w+' \([^)]*\))*) column; add it to "
     r"decide this rule", _no_manhole_column),
    # ramps
    (r"no kerb ramps recorded in the community", "社区内未登记缘石坡道"),
    (r"no kerb ramps recorded in the ramps layer: crossings cannot be judged",
     "缘石坡道图层中未登记缘石坡道，无法判断人行横道"),
    (r"(\d+) of (\d+) ramps too steep: (.+)", lambda m: f"{m[2]}处缘石坡道中有{m[1]}处坡度过陡：{_ids(m[3])}"),
    (r"(\d+) of (\d+) ramps too narrow: (.+)", lambda m: f"{m[2]}处缘石坡道中有{m[1]}处宽度不足：{_ids(m[3])}"),
    (r"(\d+) of (\d+) ramps with a lip over the limit: (.+)",
     lambda m: f"{m[2]}处缘石坡道中有{m[1]}处坡口高差超限：{_ids(m[3])}"),
    (r"(\d+) of (\d+) crossings missing a kerb ramp at an end: (.+)",
     lambda m: f"{m[2]}处人行横道中有{m[1]}处端部缺少缘石坡道：{_ids(m[3])}"),
    (r"(\d+) of (\d+) not checked: flush kerbs have no slope", r"\2处中有\1处未检查：平缘石无坡度"),
    (r"(\d+) of (\d+) not checked: a full-width ramp is as wide as its footway \(§3\.1\.3 \(1\)\), not recorded"
     r"(?:; a flush kerb has no opening)?",
     r"\2处中有\1处未检查：全宽式缘石坡道与人行道同宽（第3.1.3条第1款），未记录人行道宽度"),
    (r"a flush kerb has no opening", "平缘石无坡口"),
    (r"no crossings recorded \(.*\)", "未登记人行横道"),
    (r"(\d+) of (\d+) not known \(([^)]*)\)(?:: (.+))?", lambda m: f"{m[2]}处中有{m[1]}处无法判断（{_ids(m[3])}）"
     + (f"：{_sentence(m[4], 'zh')}" if m[4] else "")),
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
    (r"no sports grounds in the green_space layer \(kind (.+)\): the share is unknown",
     lambda m: f"绿地图层中没有体育活动场地（{_codes_listed('green_space', 'kind', m[1].replace(' / ', ', '))}类），"
     "其占比未知"),
    (r"no public green space in the green_space layer", "绿地图层中没有公共绿地"),
    (r"no streets layer \(add the walking network: (gcgeo add) WS streets FILE\)",
     r"缺少道路图层（请补充步行路网：\1 工作区 streets 文件）"),
    (r"no buildings layer \(add residential buildings: (gcgeo add) WS buildings FILE\)",
     r"缺少建筑图层（请补充住宅建筑：\1 工作区 buildings 文件）"),
    (r"no green site counts as a park \(see rules (\S+)\)", r"没有可计为公园的绿地（见规则 \1）"),
    # green: sunlight on the concentrated green (gcgeo.analysis.sunlight)
    (r"no concentrated green", "无集中绿地"),
    (r"no buildings layer: shadows cannot be drawn \(add the buildings with height_m or floors\)",
     lambda m: f"缺少建筑图层，无法绘制阴影（请补充建筑，含{_heights()}）"),
    (r"no building heights: give the buildings height_m or floors to draw their shadows",
     lambda m: f"建筑均无高度数据，无法绘制阴影：请为建筑填写{_heights()}"),
    (r"at most: heights unknown for (\d+) buildings that may shade it \((.+)\); give them height_m or floors",
     lambda m: f"比例为上限值：可能遮挡该绿地的{m[1]}栋建筑高度未知（{_ids(m[2], '栋', brackets=False)}）；"
     f"请为其填写{_heights()}"),
    # green: vegetation cover from a raster (gcgeo.analysis.ndvi)
    (r"empty geometry", "几何图形为空"),
    (r"outside the raster", "在栅格范围外"),
    (r"no valid NDVI cells", "无有效NDVI像元"),
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

#: The sentences the analyses write in the ``message`` column of their ``*_findings``
#: layers (pattern matching a whole message, Chinese template or function); a message made
#: of several sentences joined by ``; `` is translated part by part, as a reason is.
MESSAGES: tuple[tuple[str, _Sub], ...] = (
    # garbage, chargers: homes and points off the walking network, homes too far
    (r"no walkable street within ([\d.]+) m of the building: map the paths to it "
     r"\(or raise the snapping tolerance\)", r"建筑\1米范围内没有可步行道路：请补绘通往该建筑的道路（或调大吸附容差）"),
    (r"no walkable street within ([\d.]+) m: it serves no home in this check",
     r"\1米范围内没有可步行道路：本项检查中不服务任何住宅楼"),
    (r"nearest sorting point ([\d.]+) m walk away", r"最近的垃圾分类投放点步行\1米"),
    (r"no sorting point within ([\d.]+) m walk", r"步行\1米内没有垃圾分类投放点"),
    (r"nearest e-bike charger ([\d.]+) m walk away", r"最近的电动自行车充电设施步行\1米"),
    (r"no e-bike charger within ([\d.]+) m walk", r"步行\1米内没有电动自行车充电设施"),
    # chargers and their parking
    (r"kind (blank|'.*'|\".*\") is neither car \(汽车\) nor e-bike \(电动自行车\); "
     r"the charger is counted in no rule", _charger_kind),
    (r"(capacity|ev_ready) missing", lambda m: f"{_column('parking', m[1])}缺失"),
    (r"(capacity|ev_ready) '(.*)' could not be read as a number",
     lambda m: f"{_column('parking', m[1])}{_quoted(m[2])}无法识别为数字"),
    (r"(\d+) EV-ready spaces recorded for (\d+) spaces; counted as the capacity",
     r"登记充电车位\1个，多于车位数\2个；按车位数计"),
    (r"e-bike charger inside residential building (.+) \(stair hall or home\): fire risk; move it to a "
     r"separate charging shed, or check that it stands in a fire-separated room",
     r"电动自行车充电设施位于住宅楼\1内（楼梯间或户内）：存在火灾隐患；请移至独立充电棚，或核实其位于防火分隔的房间内"),
    # heritage
    (r"(.+) is not a length in metres; the zone was drawn from (.+)\. Write it as a number "
     r"\(e\.g\. 15 or 15米\)\.", _radius_unreadable),
    (r"protection zone cannot be drawn: (.+); give its protection_radius_m or its kind\.",
     lambda m: f"无法划定保护范围：{_zone_basis(m[1])}；请填写其{_column('heritage', 'protection_radius_m')}"
     f"或{_column('heritage', 'kind')}。"),
    (r"(building|parking|obstruction|fire lane) (.+?): (?:([\d.]+) m² of it lies|([\d.]+) m of it runs|"
     r"it stands ([\d.]+) m from the feature,) inside the ([\d.]+) m protection zone of "
     r"(heritage feature|\S+) (.+) \(([^()]*)\), reaching (-?[\d.]+) m into it", _intrusion),
    # manholes
    (r"cover (.+?): (\w+) \([^)]*\) (.+) cannot be read; write (.+)",
     _cover_unreadable),
    (r"cover (.+?) \(([\w-]+)\): (.+)", _cover),
    # ramps: a rule failed, a value unreadable or missing, a crossing without ramps
    (r"slope (.+?) steeper than (\S+), the most any form allows", r"坡度\1，陡于各类坡道中最宽松的限值\2"),
    (r"slope (.+?) steeper than (\S+) \(([\w-]+)\)", lambda m: f"坡度{m[1]}，陡于{_form(m[3])}类坡道限值{m[2]}"),
    (r"width ([\d.]+) m narrower than ([\d.]+) m \(([\w-]+)\)",
     lambda m: f"宽度{m[1]}米，小于{_form(m[3])}类坡道要求的{m[2]}米"),
    (r"lip ([\d.]+) mm above ([\d.]+) mm", r"坡口高差\1毫米，超过\2毫米"),
    (r"(slope|width_m|lip_mm|kind) '(.*)' cannot be read; .+\.", _ramp_unreadable),
    (r"slope (.+?): form not recorded \((\S+) full-width, (\S+) other forms\)",
     lambda m: f"坡度{m[1]}：未记录坡道类型（{_form('full_width')}限值{m[2]}，其他类型{m[3]}）"),
    (r"width ([\d.]+) m: form not recorded \(a full-width ramp needs its footway's width, a three-sided "
     r"([\d.]+) m, others ([\d.]+) m\)",
     lambda m: f"宽度{m[1]}米：未记录坡道类型（{_form('full_width')}须与人行道同宽，{_form('three_sided')}"
     f"{m[2]}米，其他类型{m[3]}米）"),
    (r"no kerb ramp within ([\d.]+) m of one end", r"一端\1米内没有缘石坡道"),
    (r"no kerb ramp within ([\d.]+) m of either end", r"两端\1米内均没有缘石坡道"),
    (r"no kerb ramp within ([\d.]+) m", r"\1米内没有缘石坡道"),
    (r"no street within ([\d.]+) m to tell its two sides apart; (\d+) kerb ramp\(s\) nearby",
     r"\1米内没有道路，无法区分人行横道两侧；附近有\2处缘石坡道"),
    (r"kerb ramp\(s\) within ([\d.]+) m on one side of the street only", r"仅道路一侧\1米内有缘石坡道"),
    (r"no kerb ramp within ([\d.]+) m on either side of the street", r"道路两侧\1米内均没有缘石坡道"),
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
    return [(re.compile(p), sub) for p, sub in (REASONS + MESSAGES if lang == "zh" else ENGLISH)]


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
