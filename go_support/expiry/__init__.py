"""Auto-close of inactive tickets (``go-support expire``), Group-Office's rule and beyond.

A ticket is closed when ``[expiry] days`` is above zero, it is in progress, the last message
that counts was by an agent, that message is older than ``days``, and neither its type nor any
of its categories is excluded. Private notes and our own warnings do not count. With
``warning_days`` the requester is warned first, once per quiet period.

* :mod:`~go_support.expiry.config`: the ``[expiry]`` settings;
* :mod:`~go_support.expiry.rule`: the rule, per ticket, pure (no network, the clock passed in);
* :mod:`~go_support.expiry.templates`: feedback and warning texts, and the marker that lets
  a later run recognise them;
* :mod:`~go_support.expiry.planner`: the few requests that find the candidates and read
  their messages in bulk;
* :mod:`~go_support.expiry.runner`: the writes, the read-back, and the report.

The design (what the server filters, why runs are idempotent, two runs at once) is in
``docs/architecture.md``; what a system administrator needs in ``docs/sysadmin.md``.
This package imports the desk only in the modules that need it: the settings load
:mod:`~go_support.expiry.config` alone.
"""
