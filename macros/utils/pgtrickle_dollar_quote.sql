{#
  pgtrickle_dollar_quote(text)
  Dollar-quote a query body so quotes and `$` signs in it need no escaping.
  The tag is `$pgtq$` unless the body could close it: a dollar-quoted body ends at the first
  `$tag$`, also one formed by the body's last characters and the closing tag (a body ending
  in `$pgtq`), so the test is on the body followed by `$`.
  On a collision the tag is `$pgtq_<md5 of the body, 8 hex>_<n>$` with the first free n.
  A free n is always found: an occurrence of `$pgtq_<h>_<n>$` determines its n, so the body
  (of length L) holds at most L + 1 of them, and n runs over L + 2 values.
  Returns: SQL text.
#}
{% macro pgtrickle_dollar_quote(text) -%}
  {%- set probe = text ~ '$' -%}
  {%- set ns = namespace(tag='pgtq') -%}
  {%- if ('$' ~ ns.tag ~ '$') in probe -%}
    {%- set stem = 'pgtq_' ~ local_md5(text)[:8] ~ '_' -%}
    {%- set ns.tag = none -%}
    {%- for n in range(probe | length + 1) if ns.tag is none -%}
      {%- if ('$' ~ stem ~ n ~ '$') not in probe -%}
        {%- set ns.tag = stem ~ n -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {{- '$' ~ ns.tag ~ '$' ~ text ~ '$' ~ ns.tag ~ '$' -}}
{%- endmacro %}
