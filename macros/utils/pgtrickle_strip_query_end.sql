{#
  pgtrickle_strip_query_end(query)
  The model's SQL without what may follow its last clause: whitespace, semicolons and comments
  (`-- ...` and `/* ... */`). pg_trickle embeds the query in its own SQL on one line
  (`... FROM (<query>) sub`, pg_trickle src/api/helpers.rs), so a trailing `;` is a syntax
  error there and a trailing `--` comment would swallow the closing parenthesis. Quotes,
  quoted identifiers and dollar quotes are skipped while scanning, so `;` or `--` inside them
  stay; in an escape string (E'...') a backslash escapes the next character, `\'` included.
  If a quote or comment is left open, only trailing whitespace and semicolons go (the server
  then reports the real error). The Python twin is `_sql.strip_query_end`; both run the cases
  of tests/vocabulary/query_end_cases.py.
  Returns: text ('' for none).
#}
{% macro pgtrickle_strip_query_end(query) %}
  {%- set text = query or '' -%}
  {%- set re = modules.re -%}
  {%- set pattern -%}
(?P<quoted>[Ee]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|"(?:[^"]|"")*"|\$(?P<tag>[A-Za-z_][A-Za-z_0-9]*|)\$.*?\$(?P=tag)\$)|(?P<comment>--[^\n]*|/\*.*?\*/)|(?P<blank>\s+|;)|(?P<open>[Ee]'|['"]|/\*)|(?P<word>[^'"$;\s/-]+|.)
  {%- endset -%}
  {%- set scan = namespace(end=0, closed=true) -%}
  {%- for m in re.finditer(pattern, text, re.DOTALL) -%}
    {%- if m.lastgroup == 'open' -%}
      {%- set scan.closed = false -%}
    {%- elif m.lastgroup in ['quoted', 'word'] -%}
      {%- set scan.end = m.end() -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if scan.closed -%}
    {{ return(text[:scan.end] | trim) }}
  {%- endif -%}
  {{ return(re.sub('[\\s;]+$', '', text) | trim) }}
{% endmacro %}
