"""Vocabularies of list pages, kept apart from the logic that uses them."""

from __future__ import annotations

import re

# A date written in an article URL: /2023/04/04/, /202304/t20230404_, /20200709/, /20/0704/, art_123_456.
URL_DATE = re.compile(
    r"(?:^|[/_\-.=])(?:19|20)\d{2}(?:[-/_]?(?:0[1-9]|1[0-2]|[1-9]))(?:[-/_]?(?:[0-3]?\d))?(?=[/_\-.A-Za-z]|$)"
    r"|/t20\d{6}_\d+"
    r"|/art_\d+_\d+"
    r"|/content_\d{4,}"
    r"|/\d{2}/[01]\d[0-3]\d/"
    r"|/(?:19|20)\d{6}[A-Za-z0-9]"
)
# A date written beside a link: 2023-04-04, 2023/4/4, 2023.04.04, 2023年4月4日, [04-04], 04月04日.
TEXT_DATE = re.compile(
    r"(?:19|20)\d{2}\s*[-/.年]\s*[01]?\d\s*[-/.月]\s*[0-3]?\d"
    r"|(?<!\d)[01]?\d\s*[-/月]\s*[0-3]?\d\s*日?(?!\d)"
    r"|\d+\s*(?:分钟|小时|天)前"
)
# Links that are never articles.
SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "#", "data:", "vbscript:")
SKIP_EXTENSIONS = re.compile(
    r"\.(?:jpe?g|png|gif|bmp|webp|svg|css|js|ico|zip|rar|7z|exe|apk|mp[34]|flv|swf)(?:\?|$)", re.I
)
# Link texts of navigation, pagers and site furniture (a whole link text matching one is not a title).
NAV_TEXT = re.compile(
    r"^(?:首页|网站首页|返回首页|上一页|下一页|上页|下页|前页|后页|末页|尾页|更多|更多>>|more|查看更多|加载更多|"
    r"关于我们|联系我们|网站地图|网站声明|隐私声明|法律声明|版权声明|使用帮助|无障碍|长者模式|English|"
    r"登录|注册|退出|搜索|打印|关闭|收藏|分享|返回顶部|设为首页|加入收藏|\d{1,4}|>>?|<<?|»|«|›|‹)$",
    re.I,
)
# "Next page" as pagers write it.
NEXT_TEXT = re.compile(r"^\s*(?:下一页|下页|后页|下一頁|next(?:\s*page)?|›|»|>|>>|&gt;)\s*$", re.I)
# Footer furniture that sometimes carries long, date-free link texts (not a bare "备案": 项目备案 is news).
FOOTER_TEXT = re.compile(
    r"ICP|备案号|网站备案|公网安备|版权所有|主办单位|承办单位|技术支持|网站标识码|政府网站找错", re.I
)
# Second-level labels under which a registrable domain takes three labels (www.baotou.gov.cn -> baotou.gov.cn).
SECOND_LEVEL = frozenset({"gov", "com", "net", "org", "edu", "ac", "co", "mil"})

MIN_TITLE_CHARS = 5  # a link text shorter than this is not an article title

# The whole text of a pager's own link: a page number, first / previous / next / last ([2], 下一页, »).
PAGER_TEXT = re.compile(
    r"^[\[【(]?\s*(?:\d{1,4}|首页|第一页|上一页|上页|前页|下一页|下页|后页|末页|尾页|最后一页|"
    r"first|prev(?:ious)?|next|last|<<?|>>?|«|»|‹|›)\s*[\])】]?$",
    re.I,
)
# What splits a <title> into the column's name and the site's: 重点项目_鞍山市人民政府, 国际新闻_网易新闻中心.
TITLE_SEPARATORS = re.compile(r"[_|｜\-—–·:：>＞»/\s]+")
# A breadcrumb: its opening words, the class and id words naming it, and the separators of its steps.
CRUMB_OPENING = re.compile(r"^\s*(?:当前位置|您的位置|您现在的位置|你的位置|你现在的位置|所在位置|现在位置)\s*[:：]?")
CRUMB_WORDS = frozenset({"crumb", "crumbs", "breadcrumb", "breadcrumbs", "position", "location"})
CRUMB_SEPARATORS = re.compile(r">|＞|»|›|→")
