"""What every page of the engine shares, one concern a module:

- ``context``: whom and where a request is for (the signed-in person, locale, time zone);
- ``templating``: the template globals and the site's links;
- ``guards``: the role guard, redirect targets, the NUL check, the JSON body;
- ``errors``: the error pages;
- ``caching``: the parts of pages a worker keeps, and the validators of public pages.

Services, models and jobs never import this package (the ``services`` contract in
``pyproject.toml``): they run outside requests too (commands, jobs).
"""
