"""String predicates and string functions the seed hunts use: has / contains / startswith / endswith families,
==, =~, in, in~, has_any, has_all, matches regex, tolower, reverse, strcat, replace / replace_regex.

Sources (see _harness.py): `docs:<page>` is data-explorer/kusto/query/<page>.md in MicrosoftDocs/
dataexplorer-docs; `frozen:<id>` a case of kusto-docs-dev.json; `measured:<file>` the duckdb-kql test file
that records a Kusto Emulator measurement.
"""

from __future__ import annotations

import pytest

from ._harness import KUSTO_ERROR, case, params, run_case

TERM_DOC = "docs:datatypes-string-operators (What is a term: maximal sequences of alphanumeric characters)"
STROPS = "docs:datatypes-string-operators (operator table, 'Example (yields true)')"
DOCS_TERM_TEXT = "Kusto: ad67d136-c1db-4f9f-88ef-d94f3b6b0b5a;KustoExplorerQueryRun"


def b(id: str, expr: str, expected: bool | None, source: str, **kw):
    """A scalar predicate evaluated by `print`."""
    return case(id, f"print r = {expr}", ["r"], ["bool"], [(expected,)], source, **kw)


def s(id: str, expr: str, expected: str, source: str, **kw):
    return case(id, f"print r = {expr}", ["r"], ["string"], [(expected,)], source, **kw)


def rows_where(id: str, values: list[str], predicate: str, kept: list[str], source: str, **kw):
    """`datatable(s:string)[values] | where <predicate>` keeps exactly `kept` (as a multiset)."""
    lits = ", ".join(_kql_str(v) for v in values)
    return case(id, f"datatable(s:string)[{lits}] | where {predicate}", ["s"], ["string"],
                [(v,) for v in kept], source, **kw)


def _kql_str(v: str) -> str:
    assert '"' not in v and "\\" not in v
    return f'"{v}"'


HAS = [
    # --- the docs' own examples --------------------------------------------------------------------------
    b("has_docs", '"North America" has "america"', True, STROPS),
    b("not_has_docs", '"North America" !has "amer"', True, STROPS),
    b("has_cs_docs", '"North America" has_cs "America"', True, STROPS),
    b("not_has_cs_docs", '"North America" !has_cs "amer"', True, STROPS),
    b("has_cs_wrong_case", '"North America" has_cs "america"', False,
      "docs:has-cs-operator (has_cs \"florida\" finds nothing in upper-case data)"),
    b("has_partial_term_false", '"North America" has "amer"', False, STROPS + " (negation of the !has row)"),
    b("has_not_substring", f'"{DOCS_TERM_TEXT}" has "Explorer"', False,
      TERM_DOC + ": '\"KustoExplorerQueryRun\" has \"Explorer\" will return false'"),
    b("contains_substring", f'"{DOCS_TERM_TEXT}" contains "Explorer"', True, TERM_DOC + ": contains is true"),
    b("has_guid_part", f'"{DOCS_TERM_TEXT}" has "c1db"', True, TERM_DOC + ": c1db is listed as a term"),
    b("has_guid_last_part", f'"{DOCS_TERM_TEXT}" has "d94f3b6b0b5a"', True, TERM_DOC),
    b("has_term_prefix_false", f'"{DOCS_TERM_TEXT}" has "d94f3b"', False,
      TERM_DOC + ": a prefix of the term d94f3b6b0b5a is not a whole term"),
    b("has_case_insensitive_long_term", f'"{DOCS_TERM_TEXT}" has "kustoexplorerqueryrun"', True,
      TERM_DOC + "; has is case-insensitive"),
    b("has_term_before_colon", f'"{DOCS_TERM_TEXT}" has "KUSTO"', True, TERM_DOC + ": Kusto is a term"),
    b("has_short_term", '"a b c" has "b"', True,
      "docs:has-operator: terms under 3 characters are not indexed, the column is scanned instead -- "
      "a performance note, the predicate is the same"),
    b("has_number_term", '"port 443 open" has "443"', True, TERM_DOC + ": digits are alphanumeric"),
    b("has_number_inside_term", '"port4431" has "443"', False, TERM_DOC),
    # --- what delimits a term ----------------------------------------------------------------------------
    b("has_underscore_delimits", '"value1_x" has "value1"', True,
      TERM_DOC + ": '_' is not alphanumeric, so it ends a term; measured:test_has_list.py (value1_x has value1)"),
    b("has_hyphen_delimits", '"a-b" has "a"', True, TERM_DOC),
    b("has_dot_delimits", '"login.live.com" has "live"', True, TERM_DOC),
    b("has_term_embedded", '"xvalue1" has "value1"', False, TERM_DOC + "; measured:test_has_list.py"),
    b("has_plural_is_other_term", '"errors" has "error"', False, TERM_DOC),
    b("has_unicode_letter_is_term_char", '"éa" has "a"', False,
      "measured:test_has_list.py (accented letters are term characters); alphanumeric is Unicode"),
    # --- right-hand sides that contain punctuation -------------------------------------------------------
    b("has_phrase_with_dot", '"https://login.live.com/oauth" has "login.live"', True,
      "reasoning: a multi-term RHS matches where it occurs aligned on term boundaries (docs silent); "
      "measured:test_has_list.py ('x a-b y' has 'a-b')"),
    b("has_phrase_not_at_term_start", '"https://xlogin.live.com" has "login.live"', False,
      "reasoning: 'login' must be a whole term, xlogin is not"),
    b("has_phrase_not_at_term_end", '"https://login.lived.com" has "login.live"', False,
      "reasoning: 'live' must be a whole term, lived is not"),
    b("has_phrase_other_delimiter", '"x a_b y" has "a-b"', False,
      "measured:test_has_list.py: the delimiter characters inside the RHS must match"),
    b("has_phrase_joined", '"x ab y" has "a-b"', False, "measured:test_has_list.py"),
    b("has_leading_punctuation", '"run.exe" has ".exe"', True,
      "reasoning: a RHS starting with a non-alphanumeric needs no boundary before it; exe is a whole term"),
    b("has_leading_punctuation_term_continues", '"run.exes" has ".exe"', False,
      "reasoning: 'exe' must end at a term boundary"),
    b("has_trailing_punctuation", '"a b" has "a "', True, "measured:test_has_list.py ('a b' has 'a ')"),
    b("has_trailing_punctuation_not_term_start", '"xa b" has "a "', False,
      "measured:test_has_list.py ('xa b' has 'a ' is false)"),
    # --- has_any / has_all ---------------------------------------------------------------------------------
    b("has_any_docs", '"North America" has_any("south", "north")', True, STROPS),
    b("has_all_docs", '"North and South America" has_all("south", "north")', True, STROPS),
    b("has_all_missing_one", '"North and South America" has_all("south", "east")', False,
      "docs:has-all-operator: every value must be a term"),
    b("has_any_none", '"North America" has_any("south", "east")', False, "docs:has-any-operator"),
    b("has_any_term_semantics", '"NorthAmerica" has_any("north")', False,
      "docs:has-any-operator: same as has (terms), so a prefix of a term does not count"),
    case("has_any_let_dynamic",
         "let areas = dynamic(['south', 'north']);\n"
         "datatable(State:string)['NORTH CAROLINA', 'ATLANTIC SOUTH', 'NEW YORK', 'SOUTHWEST']\n"
         "| where State has_any (areas)",
         ["State"], ["string"], [("NORTH CAROLINA",), ("ATLANTIC SOUTH",)],
         "docs:has-any-operator (let areas = dynamic(['south','north']) example; SOUTHWEST is one term)"),
    case("has_all_let_dynamic",
         "let criteria = dynamic(['cold', 'hail']);\n"
         "datatable(t:string)['cold front with hail', 'hail only', 'COLD, HAIL.', 'coldhail']\n"
         "| where t has_all (criteria)",
         ["t"], ["string"], [("cold front with hail",), ("COLD, HAIL.",)], "docs:has-all-operator (let form)"),
    case("not_has_any_keeps_rest",
         'datatable(c:string)["value1 here", "other", "VALUE2", "nothing", "value1_x", "xvalue1"]\n'
         '| where not(c has_any ("value1", "value2"))',
         ["c"], ["string"], [("other",), ("nothing",), ("xvalue1",)],
         "measured:test_has_list.py (the reported not(has_any) query)"),
]

CONTAINS = [
    b("contains_docs", '"FabriKam" contains "BRik"', True, STROPS),
    b("not_contains_docs", '"Fabrikam" !contains "xyz"', True, STROPS),
    b("contains_cs_docs", '"FabriKam" contains_cs "Kam"', True, STROPS),
    b("not_contains_cs_docs", '"Fabrikam" !contains_cs "Kam"', True, STROPS),
    b("contains_cs_wrong_case", '"FabriKam" contains_cs "kam"', False, STROPS + " (case-sensitive)"),
    b("contains_ci_negated_false", '"FabriKam" !contains "brik"', False, STROPS),
    b("contains_underscore_literal", '"userXid" contains "user_id"', False,
      "reasoning: contains is a plain substring test; '_' is not a wildcard"),
    b("contains_underscore_match", '"my user_id" contains "user_id"', True, "docs:contains-operator"),
    b("contains_percent_literal", '"100pct" contains "%"', False, "reasoning: '%' is not a wildcard"),
    b("contains_dot_literal", '"ab" contains "."', False, "reasoning: '.' is not a regex"),
    rows_where("not_contains_empty_string_row", ["", "error here", "fine"], 's !contains "err"', ["", "fine"],
               "docs:datatypes-string-operators (!contains: RHS doesn't occur in LHS)"),
]

STARTS_ENDS = [
    b("startswith_docs", '"Fabrikam" startswith "fab"', True, STROPS),
    b("not_startswith_docs", '"Fabrikam" !startswith "kam"', True, STROPS),
    b("startswith_cs_docs", '"Fabrikam" startswith_cs "Fab"', True, STROPS),
    b("not_startswith_cs_docs", '"Fabrikam" !startswith_cs "fab"', True, STROPS),
    b("startswith_cs_wrong_case", '"Fabrikam" startswith_cs "fab"', False, STROPS),
    b("endswith_docs", '"Fabrikam" endswith "Kam"', True, STROPS),
    b("not_endswith_docs", '"Fabrikam" !endswith "brik"', True, STROPS),
    b("endswith_cs_docs", '"Fabrikam" endswith_cs "kam"', True, STROPS),
    b("not_endswith_cs_docs", '"Fabrikam" !endswith_cs "brik"', True, STROPS),
    b("endswith_cs_wrong_case", '"Fabrikam" endswith_cs "Kam"', False, STROPS),
    b("endswith_exe_upper", '"NOTEPAD.EXE" endswith ".exe"', True, "docs:endswith-operator (case-insensitive)"),
    b("startswith_underscore_literal", '"axb" startswith "a_"', False, "reasoning: '_' is not a wildcard"),
    b("endswith_underscore_literal", '"a_b" endswith "_b"', True, "docs:endswith-operator"),
    b("not_startswith_http_bare_host", '"login.live.com" !startswith "http"', True, STROPS),
    b("not_startswith_http_url", '"HTTPS://login.live.com" !startswith "http"', False, STROPS + " (case-insensitive)"),
    rows_where("seed003_not_endswith_chain",
               ["", "a.measure.office.com", "x.windows.net", "evil.example", "WWW.MICROSOFT.COM", "msn.com.evil"],
               's !endswith "measure.office.com" and s !endswith "windows.net" and s !endswith "office.com"'
               ' and s !endswith "msn.com" and s !endswith "microsoft.com"',
               ["", "evil.example", "msn.com.evil"],
               "docs:not-endswith-operator (case-insensitive closing subsequence); seed 003's filter"),
]

EQUALITY = [
    b("eq_docs", '"aBc" == "aBc"', True, STROPS),
    b("ne_docs", '"abc" != "ABC"', True, STROPS),
    b("eq_ci_docs", '"abc" =~ "ABC"', True, STROPS),
    b("ne_ci_docs", '"aBc" !~ "xyz"', True, STROPS, may_refuse=True),
    b("eq_case_sensitive", '"abc" == "ABC"', False, STROPS + " (== is case-sensitive)"),
    b("ne_ci_same", '"abc" !~ "ABC"', False, STROPS, may_refuse=True),
    b("eq_trailing_space", '"a " == "a"', False, "reasoning: strings compare exactly (no padding rules)"),
    case("ne_null_row_kept",
         'datatable(ival:int, sval:string)[5, "a", int(null), "b"]\n| where ival != 5',
         ["ival", "sval"], ["int", "string"], [(None, "b")],
         "docs:scalar-data-types/null-values ('where ival != 5' keeps the null row)"),
    case("null_comparison_table",
         "datatable(val:int)[5, int(null)]\n"
         "| extend IsBiggerThan3 = val > 3\n"
         "| extend IsBiggerThan3OrNull = val > 3 or isnull(val)\n"
         "| extend IsEqualToNull = val == int(null)\n"
         "| extend IsNotEqualToNull = val != int(null)",
         ["val", "IsBiggerThan3", "IsBiggerThan3OrNull", "IsEqualToNull", "IsNotEqualToNull"],
         ["int", "bool", "bool", "bool", "bool"],
         [(5, True, True, False, True), (None, None, True, None, None)],
         "docs:scalar-data-types/null-values (Equality and inequality of null values, output table)"),
    case("null_arithmetic",
         "datatable(val:int)[5, int(null)]\n| extend Add = val + 10\n| extend Multiply = val * 10",
         ["val", "Add", "Multiply"], None, [(5, 15, 50), (None, None, None)],
         "docs:scalar-data-types/null-values (null is sticky in binary operators)"),
]

IN = [
    b("in_docs", '"abc" in ("123", "345", "abc")', True, STROPS),
    b("not_in_docs", '"bca" !in ("123", "345", "abc")', True, STROPS),
    b("in_ci_docs", '"Abc" in~ ("123", "345", "abc")', True, STROPS),
    b("not_in_ci_docs", '"bCa" !in~ ("123", "345", "ABC")', True, STROPS),
    b("in_case_sensitive", '"Abc" in ("123", "345", "abc")', False, STROPS + " (in is case-sensitive)"),
    b("not_in_ci_false", '"ABC" !in~ ("abc")', False, STROPS),
    case("in_ci_let_dynamic",
         'let L = dynamic(["Certutil.exe", "Mshta.exe"]);\n'
         'datatable(f:string)["certutil.exe", "MSHTA.EXE", "cmd.exe", "Certutil.exe"]\n| where f in~ (L)',
         ["f"], ["string"], [("certutil.exe",), ("MSHTA.EXE",), ("Certutil.exe",)],
         "docs:in-operator (dynamic array held in a let); seed 003's in~ (SuspiciousExecutables)"),
    case("in_cs_let_dynamic",
         'let L = dynamic(["Certutil.exe", "Mshta.exe"]);\n'
         'datatable(f:string)["certutil.exe", "MSHTA.EXE", "cmd.exe", "Certutil.exe"]\n| where f in (L)',
         ["f"], ["string"], [("Certutil.exe",)], "docs:in-cs-operator (dynamic array)"),
    case("not_in_ci_let_dynamic",
         'let L = dynamic(["Certutil.exe", "Mshta.exe"]);\n'
         'datatable(f:string)["certutil.exe", "MSHTA.EXE", "cmd.exe", "Certutil.exe"]\n| where f !in~ (L)',
         ["f"], ["string"], [("cmd.exe",)], "docs:not-in-operator (dynamic array)"),
    case("not_of_in_let_dynamic",
         'let ExclusionList = dynamic(["login.live.com"]);\n'
         'datatable(u:string)["login.live.com", "LOGIN.LIVE.COM", "", "evil.example"]\n'
         "| where not(u in (ExclusionList))",
         ["u"], ["string"], [("LOGIN.LIVE.COM",), ("",), ("evil.example",)],
         "docs:in-cs-operator (case-sensitive); seed 003's not(RemoteUrl in (ExclusionList))"),
    case("in_numbers",
         "datatable(p:int)[80, 443, 22, int(null)]\n| where p in (80, 443)",
         ["p"], ["int"], [(80,), (443,)], "docs:in-cs-operator; null-values (null == x is false)"),
    case("not_in_numbers_keeps_null",
         "datatable(p:int)[80, 443, 22, int(null)]\n| where not(p in (80, 443))",
         ["p"], ["int"], [(22,), (None,)],
         "docs:scalar-data-types/null-values: 'in behaves like a logical OR of equality comparisons' and "
         "null == non-null yields false, so `p in (80, 443)` is false for the null row and not() keeps it "
         "(seed 000's not(RemotePort in (80, 443)))"),
    case("bang_in_numbers_keeps_null",
         "datatable(p:int)[80, 443, 22, int(null)]\n| where p !in (80, 443)",
         ["p"], ["int"], [(22,), (None,)],
         "docs:scalar-data-types/null-values: '!in behaves like a logical AND of inequality comparisons', "
         "null != non-null yields true"),
    case("in_numbers_let_dynamic",
         "let ports = dynamic([80, 443]);\ndatatable(p:long)[80, 22, 443]\n| where p in (ports)",
         ["p"], ["long"], [(80,), (443,)], "docs:in-cs-operator (dynamic array)"),
    case("in_string_list_seed004",
         'datatable(t:string)["Reserved", "Public", "Private", "LinkLocal", "Loopback", "private"]\n'
         '| where t !in ("Reserved", "Private", "LinkLocal", "Loopback")',
         ["t"], ["string"], [("Public",), ("private",)], "docs:not-in-cs-operator (case-sensitive)"),
]

REGEX = [
    b("regex_docs", '"Fabrikam" matches regex "b.*k"', True, STROPS),
    b("regex_unanchored", '"ARKANSAS" matches regex "K.*S"', True,
      "docs:matches-regex-operator (ARKANSAS is in the example output: a match anywhere counts)"),
    b("regex_case_sensitive", '"kansas" matches regex "K.*S"', False,
      "docs:matches-regex-operator ('case-sensitive regular expression')"),
    b("regex_i_flag", '"kansas" matches regex "(?i)K.*S"', True, "docs:regex (flag i: case-insensitive)"),
    b("regex_i_flag_toggled", '"AAB" matches regex "^(?i)a+(?-i)b+$"', False,
      "docs:regex (flags note: (?i)a+(?-i)b+ -- b+ only matches b)"),
    b("regex_digit_class", '"abc123" matches regex @"\\d{3}$"', True, "docs:regex (\\d, x{n}, $)"),
    b("regex_unicode_digit", '"٣" matches regex @"^\\d$"', True,
      "docs:regex: '\\d  Digit (\\p{Nd})' -- Unicode decimal digits, not only 0-9"),
    b("regex_posix_class_ascii", '"é" matches regex "^[[:alpha:]]$"', False,
      "docs:regex: [[:alpha:]] is the ASCII class [A-Za-z]"),
    b("regex_dot_not_newline", '"a\\nb" matches regex "a.b"', False,
      "docs:regex: '.' is any character except new line (unless flag s)"),
    b("regex_dot_newline_s_flag", '"a\\nb" matches regex "(?s)a.b"', True, "docs:regex (flag s)"),
    b("regex_empty_string", '"" matches regex "^$"', True, "docs:regex (^ and $ on an empty haystack)"),
    case("regex_seed000_browsers",
         'datatable(f:string)["chrome.exe", "Chrome.EXE", "MSEDGE.exe", "firefox.exe.bak", "xchrome.exe",'
         ' "chrome_exe", "firefox.exe"]\n'
         "| where f matches regex @'(?i)^(msedge|chrome|firefox)\\.exe$'",
         ["f"], ["string"], [("chrome.exe",), ("Chrome.EXE",), ("MSEDGE.exe",), ("firefox.exe",)],
         "docs:regex (flag i, ^, $, alternation, escaped dot); seed 000's browser filter"),
    case("regex_seed000_not",
         'datatable(f:string)["chrome.exe", "Chrome.EXE", "firefox.exe.bak", "xchrome.exe", "chrome_exe"]\n'
         "| where not(f matches regex @'(?i)^(msedge|chrome|firefox)\\.exe$')",
         ["f"], ["string"], [("firefox.exe.bak",), ("xchrome.exe",), ("chrome_exe",)],
         "docs:regex; seed 000's not(... matches regex ...)"),
    case("regex_lookahead_rejected", 'print r = "abc" matches regex "a(?=b)"', None, None, KUSTO_ERROR,
         "docs:regex: look-around is not in the supported syntax, so Kusto rejects the pattern"),
]

FUNCTIONS = [
    b("tolower_docs", 'tolower("Hello") == "hello"', True, "docs:tolower-function"),
    s("tolower_mixed", 'tolower("CertUtil.EXE")', "certutil.exe", "docs:tolower-function"),
    s("tolower_empty", 'tolower("")', "", "docs:tolower-function"),
    s("tolower_unicode", 'tolower("ÀÉÎ")', "àéî", "reasoning: lower-casing is Unicode-aware (.NET ToLowerInvariant)"),
    case("tolower_in_summarize_groups",
         'datatable(f:string)["CMD.exe", "cmd.EXE", "Cmd.exe", "net.exe"]\n'
         "| extend f = tolower(f)\n| summarize n = count() by f",
         ["f", "n"], ["string", "long"], [("cmd.exe", 3), ("net.exe", 1)],
         "docs:tolower-function; seed 000 lower-cases before grouping"),
    case("reverse_docs", 'print str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"\n| extend rstr = reverse(str)',
         ["str", "rstr"], ["string", "string"],
         [("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "ZYXWVUTSRQPONMLKJIHGFEDCBA")], "docs:reverse-function"),
    case("reverse_non_strings",
         "print ['int'] = 12345, ['double'] = 123.45, \n"
         "['datetime'] = datetime(2017-10-15 12:00), ['timespan'] = 3h\n"
         "| project rint = reverse(['int']), rdouble = reverse(['double']), \n"
         "rdatetime = reverse(['datetime']), rtimespan = reverse(['timespan'])",
         ["rint", "rdouble", "rdatetime", "rtimespan"], ["string"] * 4,
         [("54321", "54.321", "Z0000000.00:00:21T51-01-7102", "00:00:30")], "frozen:reverse-function-01"),
    s("reverse_empty", 'reverse("")', "", "docs:reverse-function"),
    s("reverse_host", 'reverse("a.b.login.live.com")', "moc.evil.nigol.b.a", "docs:reverse-function"),
    s("strcat_docs", 'strcat("hello", " ", "world")', "hello world", "docs:strcat-function"),
    s("strcat_newlines", 'strcat("Line 1\\n", "Line 2\\n", "Line 3")', "Line 1\nLine 2\nLine 3",
      "docs:strcat-function (multi-line example)"),
    s("strcat_numbers", 'strcat("n=", 42, ",r=", 2.5)', "n=42,r=2.5",
      "docs:strcat-function: non-string arguments are converted to string (as tostring)"),
    s("strcat_null_is_empty", 'strcat("x", int(null), "y")', "xy",
      "docs:tostring-function (null -> empty string); measured:test_tostring.py (strcat('x', int(null)))"),
    s("strcat_datetime", 'strcat("t=", datetime(2020-01-02 03:04:05.6))', "t=2020-01-02T03:04:05.6000000Z",
      "frozen:reverse-function-01 (a datetime's text has 7 fractional digits and Z); "
      "measured:test_tostring.py"),
    s("strcat_timespan", 'strcat("<", 1d, ">")', "<1.00:00:00>",
      "frozen:totimespan-function-00 (4.00:00:00 form); measured:test_type_conversions.py"),
    s("strcat_bool", 'strcat("a", true)', "aTrue",
      "measured:test_tostring.py (a bool's string form is .NET's True/False)"),
    s("strcat_dynamic_array", 'strcat("a", dynamic(["x", 1]))', 'a["x",1]',
      "measured:test_dynamic_strings.py (a non-string dynamic keeps its JSON text)"),
    s("strcat_dynamic_string", 'strcat("a", dynamic("x"), "b")', "axb",
      "frozen:parse-json-function-02 (tostring of a dynamic string is the bare text); "
      "measured:test_dynamic_strings.py"),
    s("strcat_seed004_url", "strcat(@'http://', \"login.live.com\")", "http://login.live.com", "docs:strcat-function"),
    case("replace_regex_docs",
         "range x from 1 to 5 step 1\n| extend str=strcat('Number is ', tostring(x))\n"
         "| extend replaced=replace_regex(str, @'is (\\d+)', @'was: \\1')",
         ["x", "str", "replaced"], ["long", "string", "string"],
         [(i, f"Number is {i}", f"Number was: {i}") for i in range(1, 6)], "frozen:replace-regex-function-00"),
    s("replace_regex_all_occurrences", 'replace_regex("a-a-a", "a", "b")', "b-b-b",
      "docs:replace-regex-function ('Replaces all regular expression matches')"),
    s("replace_regex_swap_groups", "replace_regex(\"john.doe\", @'(\\w+)\\.(\\w+)', @'\\2 \\1')", "doe john",
      "docs:replace-regex-function (\\1, \\2 refer to capture groups)"),
    s("replace_regex_whole_match", "replace_regex(\"abc\", \"b\", @'[\\0]')", "a[b]c",
      "docs:replace-regex-function (\\0 is the whole match)"),
    s("replace_regex_no_match", 'replace_regex("abc", "x", "y")', "abc", "docs:replace-regex-function"),
    s("replace_regex_non_overlapping", 'replace_regex("aaaa", "aa", "b")', "bb",
      "docs:replace-regex-function ('Matches do not overlap')"),
    s("replace_deprecated_argument_order", "replace(@'is (\\d+)', @'was: \\1', \"Number is 7\")", "Number was: 7",
      "docs:replace-regex-function lists replace() as a deprecated alias; its own page "
      "(replacefunction.md before commit 6f022f64c) documents replace(regex, rewrite, text)"),
    s("seed004_domain_three_labels",
      "reverse(replace(@'([A-z0-9-]+\\.[A-z0-9-]+\\.[A-z0-9-]+)\\..*', @'\\1', reverse(\"a.b.login.live.com\")))",
      "login.live.com",
      "reasoning from the replace() docs: the reversed host moc.evil.nigol.b.a keeps its first three labels"),
    s("seed004_domain_two_labels_unchanged",
      "reverse(replace(@'([A-z0-9-]+\\.[A-z0-9-]+\\.[A-z0-9-]+)\\..*', @'\\1', reverse(\"live.com\")))",
      "live.com", "reasoning: no match leaves the text as it was (docs:replace-regex-function)"),
    s("seed004_domain_empty_host",
      "reverse(replace(@'([A-z0-9-]+\\.[A-z0-9-]+\\.[A-z0-9-]+)\\..*', @'\\1', reverse(\"\")))",
      "", "reasoning: no match on the empty string"),
]

CASES = HAS + CONTAINS + STARTS_ENDS + EQUALITY + IN + REGEX + FUNCTIONS


@pytest.mark.parametrize("c", params(CASES))
def test_string_case(c):
    run_case(c)
