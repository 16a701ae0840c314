"""Pattern vocabularies for article extraction, kept apart from the logic that uses them.

Everything here is data gathered from real portals (TRS, Hanweb 大汉, VSB 博达, DedeCMS, PHPCMS,
Destoon, old table-layout news sites). Extending a vocabulary should never need a code change.
"""

from __future__ import annotations

import re
from typing import Final

# ---------------------------------------------------------------------------------------------
# decoding
# ---------------------------------------------------------------------------------------------

#: Declared charsets that are strict subsets of GB18030: decoding as gb18030 loses nothing and
#: rescues the characters that GB2312-labelled pages use anyway (GBK extensions, 镕, 喆 ...).
GB_FAMILY: Final = frozenset(
    {
        "gb2312",
        "gbk",
        "gb18030",
        "gb_2312-80",
        "x-gbk",
        "cp936",
        "ms936",
        "csgb2312",
        "euc-cn",
        "x-euc-cn",
        "gb_2312",
        "chinese",
        "iso-ir-58",
        "windows-936",
    }
)

#: Codecs (Python names) that mean "no real idea" in the wild: Chinese pages declaring them are GBK/UTF-8.
WEAK_CODECS: Final = frozenset({"iso8859-1", "latin-1", "ascii", "cp1252"})

#: Magic numbers of bodies that are not text at all (a PDF or image served as an article).
BINARY_SIGNATURES: Final[tuple[tuple[bytes, str], ...]] = (
    (b"%PDF", "pdf"),
    (b"\x89PNG", "png"),
    (b"GIF8", "gif"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"PK\x03\x04", "zip/office"),
    (b"\x1f\x8b", "gzip"),
    (b"\xd0\xcf\x11\xe0", "ms-office"),
    (b"Rar!", "rar"),
)

META_CHARSET_RE: Final = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
HEADER_CHARSET_RE: Final = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)

# ---------------------------------------------------------------------------------------------
# HTML pre-cleaning
# ---------------------------------------------------------------------------------------------

#: End tags that server-side includes scatter before the article; libxml2 stops at a stray </html>.
STRAY_END_TAGS_RE: Final = re.compile(r"</\s*(?:html|body)\s*>", re.IGNORECASE)
#: lxml refuses a unicode string that carries an encoding declaration.
XML_DECL_RE: Final = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)

#: Containers that gov CMSs put the article body in, most specific first. When one of them holds
#: a real article we extract from it instead of guessing over the whole page.
#: An id is matched as "//@id[test]/parent::div" rather than "//div[@id …]": the same elements in the same
#: order, but libxml2 evaluates the test on the page's few id attributes instead of on every element
#: ("//*[@id='UCAP-CONTENT']" took 5x as long as its rewrite, most of a page's container lookup).
CONTENT_CONTAINER_XPATHS: Final[tuple[str, ...]] = (
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' TRS_Editor ')]",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' TRS_UEDITOR ')]",
    "//ucapcontent",
    "//@id[.='UCAP-CONTENT']/..",  # any element
    "//@id[.='zoom']/parent::div",
    "//@id[.='vsb_content']/parent::div",
    "//@id[contains(., 'vsb_content')]/parent::div",
)

# ---------------------------------------------------------------------------------------------
# meta tags (keys are compared lower-cased and stripped: real pages write "og:time ")
# ---------------------------------------------------------------------------------------------

#: Titles a gov CMS editor fills in: taken as they are (after suffix cleaning).
META_GOV_TITLE_KEYS: Final[tuple[str, ...]] = ("articletitle", "dc.title", "headline")
#: Titles that often carry a site or column name: used to confirm an <h1>, else cleaned.
META_PAGE_TITLE_KEYS: Final[tuple[str, ...]] = ("og:title", "twitter:title", "title")

META_DATE_KEYS: Final[tuple[str, ...]] = (
    "pubdate",  # TRS gov pages
    "publishdate",
    "publish_date",
    "publishtime",
    "publish-date",
    "firstpublishedtime",
    "article:published_time",
    "og:release_date",
    "og:time",
    "datepublished",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "weibo: article:create_at",
    "sailthru.date",
    "releasedate",
)

META_SOURCE_KEYS: Final[tuple[str, ...]] = ("contentsource", "source", "og:site_name_source")

#: The site's own name: a page whose only title is this has no headline of its own.
META_SITE_NAME_KEYS: Final[tuple[str, ...]] = ("og:site_name", "sitename", "application-name")

# ---------------------------------------------------------------------------------------------
# dates in text
# ---------------------------------------------------------------------------------------------

#: A calendar date written the usual Chinese-portal ways: 2023-04-04, 2023/4/4, 2023.04.04, 2023年4月4日.
DATE_RE: Final = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})(?!\d)\s*日?"
)
COMPACT_DATE_RE: Final = re.compile(r"^((?:19|20)\d{2})(\d{2})(\d{2})")

#: Labels that introduce a publishing date on an article's info bar (simplified and traditional).
#: A colon or a space must follow: "北京时间2021年10月7日" in prose is not a label.
DATE_LABELS: Final[tuple[str, ...]] = (
    "发布时间",
    "发布日期",
    "发表时间",
    "发表日期",
    "发稿时间",
    "发文日期",
    "发布于",
    "公开日期",
    "刊发时间",
    "时间",
    "日期",
    "更新时间",
    "發佈時間",
    "發布時間",
    "發佈日期",
    "發布日期",
    "發表時間",
    "時間",
    "日期",
)
DATE_LABEL_RE: Final = re.compile(
    r"(?:" + "|".join(sorted(set(DATE_LABELS), key=len, reverse=True)) + r")(?:\s*[:：]\s*|\s+)"
    r"((?:19|20)\d{2}\s*(?:[-/.]|年)\s*\d{1,2}\s*(?:[-/.]|月)\s*\d{1,2})"
)
#: Text right before a matched 日期/时间 label that makes it a date other than publishing
#: (成文日期 is the drafting date of a gov document; 实施日期 when a rule takes effect ...).
NOT_PUBLISH_PREFIX_RE: Final = re.compile(r"(?:成文|印发|打印|截止|有效|生效|实施|施行|开始|结束|活动|报名|会议)$")

#: The "today is …" widget in portal headers, not a publishing date.
CURRENT_DATE_WIDGET_RE: Final = re.compile(r"今天是|今日是|今天|星期[一二三四五六日天]|农历|週[一二三四五六日]")

# ---------------------------------------------------------------------------------------------
# titles
# ---------------------------------------------------------------------------------------------

#: Separators between a headline and a site or column name in <title>. "——" (a subtitle dash
#: without spaces) is deliberately absent.
TITLE_SEPARATOR_RE: Final = re.compile(r"\s*(?:[_|｜]|\s[-–—]\s?|\s?[-–—]\s)\s*|(?<=\S)-(?=[^\s\d-])")
#: A trailing segment longer than this is a second half of the headline, not a site name.
TITLE_SUFFIX_MAX: Final = 24

QUOTE_PAIRS: Final[tuple[tuple[str, str], ...]] = (("“", "”"), ("‘", "’"), ("《", "》"), ("「", "」"), ("（", "）"))

# ---------------------------------------------------------------------------------------------
# plain-text meta lines (info bar residue): labels, not content
# ---------------------------------------------------------------------------------------------

META_LINE_RE: Final = re.compile(
    r"^[\s\-–•·*]*(?:发布时间|发布日期|发表时间|发稿时间|更新时间|时间|日期|来源|來源|稿源|作者|"
    r"發佈時間|發布時間|時間|點擊|点击|点击数|浏览|浏览次数|阅读|字号|字體|字体|编辑|責任編輯|责任编辑)"
    r"\s*[:：]"
)
#: Any info-bar label followed by a colon, anywhere in a line (counted to recognise info bars).
META_LABEL_ANYWHERE_RE: Final = re.compile(
    r"(?:时间|日期|来源|來源|作者|點擊|点击|浏览|阅读|字号|字体|编辑|時間|发布)\s*[:：]"
)
#: Labels that only an info bar starts a line with (a notice body may start with 时间：/日期：).
INFO_BAR_ONLY_LABEL_RE: Final = re.compile(
    r"^[\s\-–•·*]*(?:来源|來源|稿源|作者|點擊|点击|点击数|浏览|浏览次数|阅读|字号|字體|字体|编辑|責任編輯|责任编辑|"
    r"发布时间|发布日期|發佈時間|發布時間)\s*[:：]"
)
#: "来源：某某日报". The name may not be another label ("来源:    编辑:杨宏图" has no source).
SOURCE_LINE_RE: Final = re.compile(
    r"(?:^|[\s\-–•·|｜])(?:来源|來源|稿源|信息来源|文章来源|本文来源)\s*[:：]\s*([^\s|｜:：]{2,30})(?![:：])"
)

# ---------------------------------------------------------------------------------------------
# chrome lines
# ---------------------------------------------------------------------------------------------

#: Anywhere in a line of any length: these strings never occur in article prose.
CHROME_ANYWHERE: Final[tuple[str, ...]] = (
    r"公网安备|公網安備",
    r"网安备\s*\d{6,}",
    r"网站标识码|網站標識碼",
    r"互联网新闻信息服务许可证|信息网络传播视听节目许可证|增值电信业务经营许可证",
    r"违法和不良信息举报|不良信息举报(?:电话|中心|邮箱)",
)
#: The same, for strings in Latin letters (matched ignoring case). Every match of each must contain a
#: letter A-Z: only lines that have one are searched for these (most article lines have none, and a
#: regex that ignores case is slow to scan a line with).
CHROME_ANYWHERE_LATIN: Final[tuple[str, ...]] = (
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]ICP[备證证]",
    r"ICP\s*[备证證]?\s*[:：]?\s*\d{6,}",
    r"all rights reserved",
    r"powered by",
)

#: Anywhere in a short line (at most SHORT_LINE_MAX characters): widget captions that prose
#: could in principle quote, so they only count on the short lines widgets produce.
CHROME_IN_SHORT_LINE: Final[tuple[str, ...]] = (
    r"扫一扫|掃一掃|扫描二维码|扫码(?:关注|阅读|下载)",
    r"打印本[页稿文]|关闭(?:窗口|本页)|[【\[](?:打印|关闭)[^】\]]{0,4}[】\]]|打印文章",
    r"分享到|分享至|一键分享",
    r"上一篇|下一篇|上一条|下一条",
    r"手机(?:版|看|阅读|浏览)|移动版|客户端下载|下载客户端",
    r"在线荐稿|我要投稿|投稿邮箱",
    r"收藏本站|设为首页|加入收藏",
)
SHORT_LINE_MAX: Final = 40

#: Copyright markers: the line goes when it is short or has no sentence in it. COPYRIGHT_RE counts
#: them in a line; at one place the first that matches wins, so their order counts.
COPYRIGHT_MARKERS: Final[tuple[str, ...]] = (
    r"版权所有",
    r"版權所有",
    r"copyright",
    r"©",
    r"\(c\)\s*\d{4}",
    r"未经(?:本网|本站|书面|协议)?(?:特别)?授权",
    r"未經(?:本網|書面)?授權",
    r"免责声明",
    r"禁止.{0,4}转载",
    r"不得转载",
    r"请勿转载",
    r"转载.{0,6}(?:请联系|申请|须注明)",
    r"版权禁止",
    r"版权声明",
    r"侵权必究",
    r"违者(?:必究|依法)",
)
#: The markers in Latin letters: as for CHROME_ANYWHERE_LATIN, every match must contain a letter A-Z.
COPYRIGHT_MARKERS_LATIN: Final = frozenset({r"copyright", r"\(c\)\s*\d{4}"})
COPYRIGHT_RE: Final = re.compile("|".join(COPYRIGHT_MARKERS), re.IGNORECASE)

#: A line with a copyright marker and at most this many characters is a notice even with a 。.
COPYRIGHT_SHORT_MAX: Final = 40

#: Whole-line chrome (the entire line is this, give or take separators and whitespace).
CHROME_WHOLE_LINE: Final[tuple[str, ...]] = (
    r"分享(?:按钮|到)?",
    r"打赏",
    r"点击排行|點擊排行|排行榜",
    r"推荐图文|推荐阅读|推荐新闻|热点推荐|精彩推荐|图片新闻",
    r"相关(?:文章|新闻|阅读|链接|报道|稿件)|相關(?:文章|新聞)",
    r"更多\s*[>＞»].*",
    r".{0,12}更多\s*[>＞»]+",
    r"上一篇.*|下一篇.*",
    r"返回(?:顶部|首页|列表)",
    r"网站首页|网站地图|联系方式|联系我们|关于我们|设为首页|加入收藏|收藏本站|网站导航",
    r"本网首发|本站首发|原创首发",
    r"(?:【|\[)?(?:字号|字体)\s*[:：]?.{0,12}",
    r"(?:点击|點擊|阅读|閱讀|浏览|瀏覽)(?:量|数|次数|數)?\s*[:：]?\s*\d*\s*次?",
    r"阅读量\s*[:：]?\s*\d*",
    r"(?:当前|您的|所在|现在|当前所在)位置\s*[:：].*",
    r"首页|主页|返回首页|进入首页",
    r".{0,8}排行榜?",
    r".{0,10}(?:著作权|版权|免责|传输内容|内容)声明",
    r"(?:我来说两句|发表评论|我要评论|网友评论|查看评论)(?:\s*[(（]\d*[)）])?",
    r"页面功能|收藏本文|推荐给朋友|大\s*中\s*小",
    r"(?:请)?发表您的看法|相关连接",
    r"(?:广告服务|网站公告|网站留言|友情链接|服务条款|会员积分|广告刊例|意见反馈|诚聘英才|帮助中心)",
    r"(?:推广\s*)?热搜\s*[:：].*",
    r"(?:微信|微博|QQ空间|QQ好友|朋友圈|新浪微博|腾讯微博)(?:\s+(?:微信|微博|QQ空间|QQ好友|朋友圈))*",
    r"【?纠错】?|我要纠错|内容纠错",
    r"登录|注册|登录\s*注册|退出登录",
)

#: Credit lines: label, colon, a name (or nothing). Several credits may share a line. 记者 is not a
#: label here: interviews write "记者：你怎么看？" questions as paragraphs.
CREDIT_LABELS: Final = (
    r"责任编辑|責任編輯|编辑|編輯|责编|責編|作者|來源|来源|稿源|本文来源|文章来源|信息来源|审核|审校|校对|"
    r"监制|主编|值班编辑|终审|初审|复审|摄影|通讯员|供稿|撰稿|发布者|发布人"
)
CREDIT_LINE_RE: Final = re.compile(
    r"^[\s(（\[【]*(?:(?:" + CREDIT_LABELS + r")\s*[:：]\s*[^\s:：,，。？！?!]{0,20}\s*[|｜/丨]?\s*)+[)）\]】]*$"
)

#: Breadcrumbs: "首页 > 新闻 > 正文", "汽车 >> 车坛动态 >> 业界新闻".
BREADCRUMB_RE: Final = re.compile(
    r"^(?:[^>＞»\s]{1,12}\s*(?:>>?|＞|»|->|→)\s*){2,}[^>＞»]{0,20}$|首页\s*(?:>>?|＞|»|->|→)"
)

#: Section words of portal navigation bars; a bar of short tokens naming one of these is chrome.
_NAV_WORDS_TEXT = """
首页 主页 新闻 国内 国际 财经 体育 娱乐 房产 汽车 科技 军事 社会 教育 旅游 健康 文化 时尚 女性 视频 图片
博客 论坛 游戏 数码 手机 股票 股市 基金 理财 滚动 专题 评论 邮箱 电邮 读书 历史 彩票 天气 地方 政务
要闻 时政 法治 民生 公告 通知 政策 互动 服务 English
"""
NAV_WORDS: Final = frozenset(_NAV_WORDS_TEXT.split())
#: A navigation bar has at least this many tokens, each at most NAV_TOKEN_MAX characters.
NAV_MIN_TOKENS: Final = 4
NAV_TOKEN_MAX: Final = 8

#: Bracketed widget buttons: 【打印】【关闭】, [大] [中] [小].
BRACKET_TOKEN_RE: Final = re.compile(r"[【\[][^】\]]{0,12}[】\]]")

#: Image file names and photo placeholders left where an <img> was.
IMAGE_NAME_RE: Final = re.compile(
    r"(?i)^\s*(?:[\w\u4e00-\u9fff\-]*(?:截图|截屏|图片|IMG|DSC|image|photo|微信图片)[_\-\s]?\d{4,}[\w\-]*"
    r"|[\w\-\u4e00-\u9fff]+\.(?:jpe?g|png|gif|bmp|webp))\s*$"
)

#: Sentence punctuation: a line with one is prose, not chrome (tail trimming keys on it).
SENTENCE_END_RE: Final = re.compile(r"[。！？!?；;…]|\.\s|\.$")
#: A tail line shorter than this with no sentence punctuation is chrome after the last paragraph.
TAIL_SHORT_MAX: Final = 20
#: A line at least this long counts as a real paragraph even without sentence punctuation.
PARAGRAPH_MIN: Final = 60
#: Copyright / credit lines at most this long are removed outright.
CHROME_LINE_MAX: Final = 120
#: Closing signature of a notice (the issuing body); kept even though it is a short tail line.
SIGNATURE_RE: Final = re.compile(
    r"(?:人民政府|人民代表大会常务委员会|委员会|办公室|办公厅|政府|管理局|局|厅|委|院|中心|协会|商会|联合会|"
    r"集团|有限公司|股份有限公司|董事会|党委|党组|支部)$"
)
