"""Layouts of tabbed admin forms: which tabs, in which order, under which labels, with which fields.

A layout is data; the tabs macro draws whatever layout it is given. Three layers
resolve into what a person sees: their personal settings (unless they switched them
off), the common default, the built-in layout. A saved layout records what it hides
and the order it chose; a tab or field it does not mention (one the console added
later, say) appears at its built-in place, so nothing vanishes unless hidden on
purpose. A stored layout is validated each time it is read: what no longer makes
sense is dropped, never allowed to break a page.

- `layout`: what a layout is (a form's tabs and their fields);
- `builtin`: the built-in layout of each form;
- `entries`: the rows the "Customize form appearance" dialog edits;
- `arrangement`: a layout made from rows, checked against the built-in one;
- `storage`: personal and default layouts in the database, and which one a person sees.
"""
