"""Closed lists of place names that have no telltale suffix: provinces and countries.

Town and village names are mined from the corpus (see ``retrieval.lexicon``); these
lists cover the larger units a national archive talks about ("温家宝去过哪些省").
"""

from __future__ import annotations

import re

PROVINCES = (
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 "
    "四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门"
).split()

COUNTRIES = (
    "美国 俄罗斯 日本 韩国 朝鲜 蒙古 越南 老挝 柬埔寨 泰国 缅甸 马来西亚 新加坡 印度尼西亚 菲律宾 文莱 东帝汶 "
    "印度 巴基斯坦 孟加拉国 斯里兰卡 尼泊尔 不丹 马尔代夫 阿富汗 伊朗 伊拉克 叙利亚 约旦 黎巴嫩 以色列 巴勒斯坦 "
    "沙特阿拉伯 沙特 阿联酋 卡塔尔 科威特 巴林 阿曼 也门 土耳其 格鲁吉亚 亚美尼亚 阿塞拜疆 哈萨克斯坦 吉尔吉斯斯坦 "
    "塔吉克斯坦 乌兹别克斯坦 土库曼斯坦 英国 法国 德国 意大利 西班牙 葡萄牙 荷兰 比利时 卢森堡 瑞士 奥地利 "
    "瑞典 挪威 丹麦 芬兰 冰岛 爱尔兰 波兰 捷克 斯洛伐克 匈牙利 罗马尼亚 保加利亚 塞尔维亚 克罗地亚 斯洛文尼亚 "
    "波黑 黑山 北马其顿 马其顿 阿尔巴尼亚 希腊 塞浦路斯 马耳他 乌克兰 白俄罗斯 摩尔多瓦 立陶宛 拉脱维亚 爱沙尼亚 "
    "加拿大 墨西哥 古巴 巴西 阿根廷 智利 秘鲁 哥伦比亚 委内瑞拉 厄瓜多尔 玻利维亚 乌拉圭 巴拉圭 哥斯达黎加 巴拿马 "
    "牙买加 特立尼达和多巴哥 苏里南 圭亚那 尼加拉瓜 萨尔瓦多 洪都拉斯 危地马拉 多米尼加 埃及 利比亚 突尼斯 "
    "阿尔及利亚 摩洛哥 苏丹 南苏丹 埃塞俄比亚 肯尼亚 坦桑尼亚 乌干达 卢旺达 刚果 安哥拉 赞比亚 津巴布韦 莫桑比克 "
    "南非 纳米比亚 博茨瓦纳 马达加斯加 尼日利亚 加纳 科特迪瓦 塞内加尔 马里 尼日尔 乍得 喀麦隆 加蓬 几内亚 "
    "塞拉利昂 利比里亚 毛里塔尼亚 吉布提 索马里 厄立特里亚 贝宁 多哥 布基纳法索 毛里求斯 塞舌尔 佛得角 澳大利亚 "
    "新西兰 斐济 巴布亚新几内亚 萨摩亚 汤加 瓦努阿图"
).split()

_PROVINCE_RE = re.compile("|".join(sorted(PROVINCES, key=len, reverse=True)))
_COUNTRY_RE = re.compile("|".join(sorted(COUNTRIES, key=len, reverse=True)))


def find_provinces(text: str) -> list[tuple[int, str]]:
    """Provinces (省/自治区/直辖市) named in ``text`` as (offset, name)."""
    return [(m.start(), m.group(0)) for m in _PROVINCE_RE.finditer(text)]


def find_countries(text: str) -> list[tuple[int, str]]:
    """Countries named in ``text`` as (offset, name)."""
    return [(m.start(), m.group(0)) for m in _COUNTRY_RE.finditer(text)]
