"""The rules' clauses (where a threshold comes from) in the report's language.

A threshold's ``clause`` in the rules files cites its source as written by
the rule's author: a Chinese standard's own words where they were read, and
English for the citation's parts (``§4.0.4``, ``Table 4.0.9``, ``Appendix B
(5-minute table: …)``) and for gcgeo's conventions and settings ("gcgeo
convention: …", "no standard figure; analysis setting").  The clause text is
covered by the built-in rules' digest, so it is not rewritten in the files;
a Chinese page shows it through this module instead, as
:mod:`gcgeo.reasons` does for the analyses' reasons.

A clause is cut into its parts at ``;`` (outside brackets; the scorecard
joins the clauses of several rules the same way).  A part that one of
:data:`CLAUSES` matches whole is replaced by its Chinese (a convention, a
setting, a note); every other part goes through :data:`PHRASES`, the
recurring pieces of a citation (§, Table, Appendix B's tables, criterion N,
"provincial notices of 2021", …).  What neither knows is shown as written.
Standard codes (GB 50180-2018, CJJ, JGJ), units and data codes (column and
kind names such as ``height_m``) stay as they are.

>>> clause_text("GB 50180-2018 Appendix B (5-minute table: 社区商业网点)", "zh")
'GB 50180-2018 附录B（五分钟生活圈居住区配套设施表：社区商业网点）'
>>> clause_text("GB 50016-2014 (2018 ed.) §7.1.8 (5): 消防车道的坡度不宜大于8%", "zh")
'GB 50016-2014（2018年版）第7.1.8条第5款：消防车道的坡度不宜大于8%'
>>> clause_text("no standard figure; analysis setting", "zh")
'无规范性数值；分析设置'
>>> clause_text("typical bollard", "en")
'typical bollard'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

__all__ = ["CLAUSES", "PHRASES", "clause_parts", "clause_text"]

_Sub = str | Callable[[re.Match], str]

#: Minutes of a living-circle tier in Chinese.
_MIN = {"5": "五", "10": "十", "15": "十五"}
#: What a network-distance convention says is off the network, besides buildings.
_OFF_NETWORK = {"chargers": "充电设施", "gates": "出入口", "sorting points": "分类投放点"}


def _numbers(text: str) -> str:
    """'0.2, 0.4 and 0.5' → '0.2、0.4和0.5'."""
    return re.sub(r" and ", "和", re.sub(r",\s*", "、", text))


def _thresholds(m: re.Match) -> str:
    return f"公开使用的阈值为{_numbers(m.group(1))}" + ("及默认值" if m.group(2) else "")


def _off_network(m: re.Match) -> str:
    listed = "，并列出" if m.group(2) else ""
    return f"距所有可步行道路均远于此值的建筑和{_OFF_NETWORK[m.group(1)]}视为不在路网上（不计为覆盖{listed}）"


def _local_rule(m: re.Match) -> str:
    """A figure a user's rules set without a clause (:func:`gcgeo.rules.local_clause`)."""
    who = m.group(1)
    head = (f"规则文件 {who[len('rules file '):]} 中的地方规定" if who.startswith("rules file ")
            else "用户给定的地方规定")
    return head + (f"（替代：{clause_text(m.group(2), 'zh')}）" if m.group(2) else "")


def _layer_column(m: re.Match) -> str:
    """Column ``m[2]`` of inventory layer ``m[1]`` by their Chinese labels (a value an analysis
    could not read, :mod:`gcgeo.analysis.chargers`)."""
    from .layers import get_spec
    from .names import layer_label

    spec = get_spec(m.group(1))
    column = spec.column(m.group(2)).label_zh if spec.has_column(m.group(2)) else m.group(2)
    return f"{layer_label(m.group(1), 'zh')}图层“{column}”列"


#: (pattern matching a whole part of a clause, Chinese template or function): gcgeo's
#: conventions and settings, and the English notes of the rules.
CLAUSES: tuple[tuple[str, _Sub], ...] = (
    # a figure of a user's rules file that cites no clause of its own, and the clause it replaces
    (r"local rule of (rules file .+?|the user|the rules given)(?: \(replacing: (.+)\))?", _local_rule),
    # settings without a standard figure
    (r"no standard figure", "无规范性数值"),
    (r"no standard value", "无规范性数值"),
    (r"analysis setting", "分析设置"),
    (r"data convention", "数据约定"),
    (r"data-checking setting", "数据检查设置"),
    (r"data-cleaning setting", "数据清理设置"),
    (r"drawing setting", "绘图设置"),
    (r"no national figure", "无国家标准数值"),
    (r"no national figure for a tree whose crown is not recorded", "未记录冠幅的古树无国家标准数值"),
    (r"no national interval found", "未查得国家规定的巡查周期"),
    # the clauses the analyses write themselves: a radius as recorded (heritage), a layer's
    # column that could not be read (chargers), a rule of gcgeo's (snapping)
    (r"(.+?) as recorded for the feature", r"该要素登记的\1"),
    (r"layer '(\w+)' column '(\w+)'", _layer_column),
    (r"rule ([\w.]+)", r"规则 \1"),
    (r"thresholds in public use(?: are)? (.+?)( plus the default)?", _thresholds),
    (r"not required by a tier", "不属于任何生活圈层级的配套要求"),
    (r"a matching tolerance of gcgeo, not a standard", "gcgeo的匹配容差，非标准数值"),
    (r"measurement tolerance of the inscribed-square test", "内接正方形检验的量测容差"),
    (r"measurement tolerance: intrusions and shortfalls smaller than this are ignored",
     "量测容差：小于此值的侵入和不足忽略不计"),
    # fire lanes: obstructions and lane geometry
    (r"unknown object", "未知物体"),
    (r"typical bollard", "常见阻车桩"),
    (r"typical market stall or kiosk", "常见摊位或售货亭"),
    (r"typical parked electric bicycle with a margin", "常见停放电动自行车（含余量）"),
    (r"typical barrier or fence section placed across the lane", "横跨车道设置的常见栏杆或围挡"),
    (r"tree trunk with its pit", "树干及树池"),
    (r"height_m is the canopy's free height", "height_m为树冠下净空高度"),
    (r"small structure \(shed, kiosk\)", "小型构筑物（棚、亭）"),
    (r"with height_m it is an overhead structure \(arcade, (过街楼)\)", r"有height_m时为架空构筑物（骑楼、\1）"),
    (r"overhead line, pipe or gantry", "架空线、管道或龙门架"),
    (r"gate frame over the lane", "跨越车道的门架"),
    (r"only its free height is checked", "只检查其下净空高度"),
    (r"storey height used to estimate a building's height from its floors when height_m is missing",
     "缺少height_m时按层数估算建筑高度所用的层高"),
    (r"height of a building without height_m is its floors × this", "无height_m的建筑，高度按层数 × 此值计"),
    (r"a lane end closer than this to a drivable street \(beyond the lane itself\) joins the street network",
     "车道端点距可通行机动车的道路（该车道以外）小于此值时，视为接入道路网"),
    (r"buildings this close to a dead-end lane are the ones it serves",
     "距尽端式车道在此距离以内的建筑视为由该车道服务"),
    (r"clear height below this: a typical appliance \(about ([\d.–]+) m high\) cannot pass",
     r"净空高度低于此值：常见消防车（高约\1 m）无法通过"),
    (r"clear width below this \(and above (\w+)\): passage only with great care",
     r"净宽低于此值（且高于\1）：须十分谨慎方可通过"),
    (r"clear width below this: an appliance \(about ([\d.]+) m wide\) cannot pass",
     r"净宽低于此值：消防车（宽约\1 m）无法通过"),
    (r"design width assumed for a lane whose width_m is missing", "缺少width_m的车道所采用的设计宽度"),
    (r"distance between the cross-sections measured along each lane", "沿每条车道量测净宽的断面间距"),
    (r"how far from a dead end a turnaround is looked for", "在尽端多远范围内查找回车场"),
    (r"lane ends closer than this to another lane count as joined", "车道端点距另一车道小于此值时视为相连"),
    (r"a gradient from a DEM is the steepest rise over steps of this length along the lane",
     "由DEM计算的坡度取沿车道按此步长量得的最大坡度"),
    # green, living circle
    (r"any public green space counts for the (\d+) m radius", r"任何公共绿地均计入\1 m服务半径"),
    (r"attached green \((附属绿地), such as (宅旁绿地)\) beside buildings is not concentrated green",
     r"建筑旁的\1（如\2）不计为集中绿地"),
    (r"green_space kinds that are sports grounds \(drawn, or OSM (leisure=[\w /]+)\)",
     r"属于运动场地的green_space类型（用户绘制的，或OSM中\1）"),
    (r"kinds taken as public green where the 'public' column is empty or missing",
     "“public”列为空或缺失时视为公共绿地的类型"),
    (r"kinds of the green_space layer", "green_space图层的类型"),
    (r"the sun is sampled at the middle of every N minutes of the window",
     "在日照时间带内每N分钟取其中点时刻计算太阳位置"),
    (r"virtual gates every N m along a park boundary that no walking path crosses",
     "在无步行路径穿越的公园边界上每隔N m设置虚拟出入口"),
    (r"gates along an outline no walking path crosses", "在无步行路径穿越的边界上设置出入口"),
    (r"buildings and (chargers|gates|sorting points) farther than this from every walkable street are off the "
     r"network \(not served(, listed)?\)", _off_network),
    (r"a 'block' larger than (\d+) km² is open land around the street network",
     r"大于\1 km²的“街区”视为路网外围的开敞用地"),
    (r"smaller street blocks are traffic islands, not residential blocks", "更小的街区为交通岛，不是居住街坊"),
    (r"national evaluation rule (300米见绿) \(residents within (\d+) m of green\)",
     r"国家评价规则“\1”（居民\2 m范围内有绿地）"),
    (r"national evaluation rule (500米见园)", r"国家评价规则“\1”"),
    (r"draft green-space planning standard: (\d+)% of residential land within (\d+) m of a park > (\d+) ha",
     r"绿地规划标准（征求意见稿）：\1%的居住用地位于面积大于\3 hm²的公园\2 m范围内"),
    (r"draft green-space planning standard: parks > (\d+) ha within (\d+) m",
     r"绿地规划标准（征求意见稿）：\2 m范围内有面积大于\1 hm²的公园"),
    (r"reading of §4\.0\.7's standard building shadow line as the isoline of the housing sunlight standard "
     r"on the standard day \((\S+) ≥ (\d+) h, Table 4\.0\.9, large cities of zones I, II, III, VII\)",
     r"将第4.0.7条的“标准的建筑日照阴影线”理解为日照标准日住宅建筑日照标准的等值线（\1 ≥ \2 h，表4.0.9，"
     "Ⅰ、Ⅱ、Ⅲ、Ⅶ气候区大城市）"),
    (r"(GB 50180-2018) Table (4\.0\.9): standard sunlight day (\S+) in climate zones I, II, III, VII "
     r"\(and large cities of IV\), (\S+) in medium and small cities of IV and in V, VI",
     r"\1 表\2：日照标准日，Ⅰ、Ⅱ、Ⅲ、Ⅶ气候区（及Ⅳ气候区大城市）为\3，Ⅳ气候区中小城市及Ⅴ、Ⅵ气候区为\4"),
    # chargers, manholes, the scorecard
    (r"national guidance for new housing: (.+)", r"国家对新建住宅的指导要求：\1"),
    (r"gcgeo reads it as e-bike charging within a walk of every residential building",
     "gcgeo理解为每栋住宅楼步行可达范围内均有电动自行车充电设施"),
    (r"parking kinds whose rows hold no car spaces", "不含小汽车车位的停车场类型"),
    (r"kinds of garbage_points that count as sorting points", "计为分类投放点的garbage_points类型"),
    (r"a register whose last inspection is more than a quarter old is out of date",
     "最近一次巡查已超过一个季度的台账视为过期"),
    (r"covers carry their owner and maintaining unit \((\w+)\)", r"井盖标明权属单位和养护单位（\1）"),
    (r"a manager is reachable only with a contact", "管理人须留有联系方式方可联系"),
    (r"a measurement from the inventory decides over a contradicting attestation",
     "清单实测结果与认定相矛盾时，以实测结果为准"),
    (r"communities at most this many criteria short of the 16 are listed as closest to passing",
     "距16项全部达标至多差此项数的社区，列为最接近达标"),
)

#: Prefixes of a part naming what kind of figure follows; the rest is translated on its own.
_PREFIXES: tuple[tuple[str, str], ...] = (
    (r"gcgeo convention \(as green (\S+)\): ", r"gcgeo约定（同绿地规则 \1）："),
    (r"gcgeo convention: ", "gcgeo约定："),
    (r"gcgeo default: ", "gcgeo默认设置："),
    (r"gcgeo: ", "gcgeo："),
    (r"local policy \(no Shandong or Gaotang figure found\)", "地方政策（未查得山东省或高唐县数值）"),
    (r"local policy \(no national or Shandong figure found\)", "地方政策（未查得国家或山东省数值）"),
    (r"local policy: ", "地方政策："),
    (r"practice: ", "实践做法："),
    (r"derived: ", "推算："),
    (r"city rules: ", "城市规定："),
    # the rule a figure is of, before its clause (heritage.radius.monument: …)
    (r"([a-z_]+(?:\.[a-z_]+)+): ", r"\1："),
)


def _minutes(m: re.Match) -> str:
    return f"{_MIN[m.group(1)]}分钟"


def _tier_park(m: re.Match) -> str:
    size = f"面积 ≥ {m.group(2)} hm²" if m.group(3) == "hm²" else f"宽度 ≥ {m.group(2)} m"
    return f"（{_MIN[m.group(1)]}分钟生活圈居住区公园{size}）"


#: (pattern, Chinese or function) substituted anywhere in a part, in order: the recurring
#: pieces of a citation.
PHRASES: tuple[tuple[str, _Sub], ...] = (
    # GB 50180-2018 Appendix B: its tables of facilities by tier
    (r"\((15)- and (10)-minute table: (.+), (15|10)-minute\)",
     "（十五分钟、十分钟生活圈居住区配套设施表：\\3，\\4-minute生活圈）"),
    (r"\(5-minute table: (.+)\)", "（五分钟生活圈居住区配套设施表：\\1）"),
    (r"\(5-minute table\)", "（五分钟生活圈居住区配套设施表）"),
    (r"Appendix ([A-Z])", "附录\\1"),
    # GB 50180-2018: the living circles and their green
    (r"\((5|10|15)-minute living circle, walking distance ([\d–]+) m\)", "（\\1-minute生活圈居住区，步行距离\\2 m）"),
    (r"\((5|10|15)-minute living circle public green\)", "（\\1-minute生活圈居住区公共绿地）"),
    (r"\((5|10|15)-minute tier (?:residential )?park ≥ ([\d.]+) (hm²|m wide)\)", _tier_park),
    (r"(5|10|15)-minute", _minutes),
    (r"\(parks include ([\d–]+)% sports ground\)", "（公园中体育活动场地占\\1%）"),
    (r"\(parks of the living-circle tiers\)", "（各级生活圈居住区公园）"),
    (r"\(public activity ground ≥ (\d+) m²\)", "（公共活动场地 ≥ \\1 m²）"),
    (r"\(old-area renewal may fall to ≥ (\d+)% of the (§[\d.]+) indicator\)", "（旧区改建不应低于\\2控制指标的\\1%）"),
    (r"\(concentrated green at least (\d+) m wide\)", "（集中绿地宽度不小于\\1 m）"),
    (r"\(new residential blocks, concentrated green per person\)", "（新区建设，人均集中绿地面积）"),
    (r"\(old-area renewal, concentrated green per person\)", "（旧区改建，人均集中绿地面积）"),
    (r"\(≥ 1/3 of its area outside building shadow, standard sunshine line\)",
     "（不少于1/3的绿地面积在标准的建筑日照阴影线范围之外）"),
    (r"\(new areas ≥ (\d+)%\)", "（新区建设 ≥ \\1%）"),
    (r"\(old-area renewal ≥ (\d+)%\)", "（旧区改建 ≥ \\1%）"),
    (r"\s*values not retrieved", "数值未查得"),
    (r"effective sunlight hours on (\S+) ([\d:–]+)", "\\1有效日照时间带\\2"),
    # 完整居住社区建设标准（试行）
    (r"(?<!《)完整居住社区建设标准（试行）(?!》)\s*\((\d{4})\)", "《完整居住社区建设标准（试行）》（\\1）"),
    (r"\(community service station ≈ (\d+) m²\)", "（社区综合服务站约\\1 m²）"),
    (r"\(elderly day care ≥ (\d+) m²\)", "（老年人日间照料设施 ≥ \\1 m²）"),
    (r"\(community health station ≥ (\d+) m²\)", "（社区卫生服务站 ≥ \\1 m²）"),
    (r"\(supermarket ≥ (\d+) m²\)", "（综合超市 ≥ \\1 m²）"),
    (r"\(≥ (\d+) classes per complete residential community of ([\d ]+)–([\d ]+) residents\)",
     "（每个\\2–\\3人的完整居住社区不少于\\1个班）"),
    (r"× (\d+) places a class \((GB [\d-]+), secondary\)", "× 每班\\1人（\\2，转引）"),
    # other standards' details
    (r", design small car \((小型车)\)", "，设计车型\\1"),
    (r"\(the distance is gcgeo's\)", "（距离为gcgeo设定）"),
    # the Shandong standard, notices, practice
    (r"\s*criterion (\d+):\s*", "第\\1项："),
    (r"criterion (\d+)", "第\\1项"),
    (r"practice, e\.g\. ", "实践做法，如"),
    (r"provincial notices of (\d{4})", "\\1年省级通知"),
    (r"\bpractice\b", "实践做法"),
    (r"\be\.g\. ", "例如"),
    # the citation's numbering
    (r"\s*\((\d{4}) ed\.\)", "（\\1年版）"),
    (r"§\s*([\d.]+\d)\s*\((\d+)\)", "第\\1条第\\2款"),
    (r"§\s*([\d.]+\d)", "第\\1条"),
    (r"Table ([A-Z]?[\d.]+\d)", "表\\1"),
    (r"(条|表[\d.]+) / 表", "\\1／表"),
)

@cache
def _clauses() -> list[tuple[re.Pattern[str], _Sub]]:
    """:data:`CLAUSES` compiled, the first time a clause is put in Chinese (not at every
    command's start: compiling the three tables took 0.02 s)."""
    return [(re.compile(p), sub) for p, sub in CLAUSES]


@cache
def _prefixes() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(p), sub) for p, sub in _PREFIXES]


@cache
def _phrases() -> list[tuple[re.Pattern[str], _Sub]]:
    return [(re.compile(p), sub) for p, sub in PHRASES]


def clause_parts(text: str) -> list[str]:
    """``text`` (a clause, or several joined by ``; ``) cut at ``;`` outside brackets.

    >>> clause_parts("一盖一编号 (practice; provincial notices of 2021: …); no national interval found")
    ['一盖一编号 (practice; provincial notices of 2021: …)', 'no national interval found']
    """
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "(（":
            depth += 1
        elif ch in ")）":
            depth = max(depth - 1, 0)
        elif ch == ";" and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [p.strip() for p in out if p.strip()]


def _whole(part: str) -> str | None:
    for pat, sub in _clauses():
        m = pat.fullmatch(part)
        if m:
            return sub(m) if callable(sub) else m.expand(sub)
    return None


def _part(part: str) -> str:
    whole = _whole(part)
    if whole is not None:
        return whole
    for pat, sub in _prefixes():
        m = pat.match(part)
        if m:
            rest = part[m.end():].lstrip(" :")
            head = m.expand(sub)
            return head + (("：" if not head.endswith("：") else "") + _part(rest) if rest else "")
    text = part
    for phrase, repl in _phrases():
        text = phrase.sub(repl, text)
    # what is left: brackets around Chinese, colons and semicolons in Chinese punctuation,
    # no space beside a Chinese bracket
    text = re.sub(r"\s*\(([^()]*[^\x00-\x7f][^()]*)\)", r"（\1）", text)
    text = re.sub(r"\s*\((\d{4})\)", r"（\1）", text)
    text = re.sub(r"(?<=[^\x00-\x7f\d]): |(?<=[\w）]): (?=[^\x00-\x7f])", "：", text)
    text = re.sub(r";\s*", "；", text)
    return re.sub(r"\s+（", "（", re.sub(r"）\s+(?=[^\x00-\x7f])", "）", text))


def clause_text(clause: str, lang: str = "zh") -> str:
    """``clause`` (a threshold's source, as in the rules files) in ``lang``: Chinese
    through :data:`CLAUSES` and :data:`PHRASES`, English as written."""
    if lang != "zh" or not clause or not re.search(r"[A-Za-z§]", clause):
        return clause
    return "；".join(_part(p) for p in clause_parts(clause.strip()))
