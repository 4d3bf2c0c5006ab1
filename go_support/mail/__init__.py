"""Mail into tickets: parsing, loop protection, threading, routing and mail sources.

Each module has one job; only the pipeline, acks, the runner and delivery write to
Group-Office:

* :mod:`~go_support.mail.parse`: a mail's bytes into a :class:`ParsedMail`, or a
  :class:`Quarantine` with the reason (never an exception for bad input);
* :mod:`~go_support.mail.loops`: automatic mail, bounces, out-of-office replies, and the
  hourly cap on what we send automatically;
* :mod:`~go_support.mail.thread_ids`: our signed Message-IDs and which ticket a mail belongs to;
* :mod:`~go_support.mail.routing`: which ticket type a mail goes to (mailbox, recipient
  address, plus-addressing, aliases);
* :mod:`~go_support.mail.config`: the ``[mail]`` settings (mailboxes, SMTP, limits);
* :mod:`~go_support.mail.sources`: where mails come from (IMAP with IDLE, Maildir, stdin) and
  how a mail leaves its inbox once Group-Office holds it;
* :mod:`~go_support.mail.quarantine`: the local folder of quarantined mails;
* :mod:`~go_support.mail.outbound`: our answers and acknowledgements, and SMTP;
* :mod:`~go_support.mail.intake`: one mail's fate (new ticket, follow-up, bounce, quarantine),
  decided from all of the above, for the writer that carries it out;
* :mod:`~go_support.mail.delivery` (it writes): agents' answers mailed after their grace
  period and marked sent or send error; acknowledgements of new tickets;
* :mod:`~go_support.mail.sink`: an SMTP sink for the demo and the tests.
* :mod:`~go_support.mail.pipeline`: the writer: a batch of mails into the desk in a few
  requests, exactly once (a key per mail that Group-Office keeps);
* :mod:`~go_support.mail.acks` (it writes): acknowledgements of the tickets a batch opened,
  each recorded on its ticket so that a crash neither loses nor doubles one;
* :mod:`~go_support.mail.seen`: the last mail of each mailbox in a local state file, for
  ``go-support mail status``;
* :mod:`~go_support.mail.runner`: the daemon's loop over every mailbox, and outbound.
"""
