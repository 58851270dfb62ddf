/*
 * Every imsg exchanged between the processes, with its fields in the
 * order they are written (m_add_*) and read (m_get_*).  This list is the
 * protocol: a process that reads a message differently from how it is
 * written here is a bug.  peerid carries the request or session id and is
 * echoed in the answer.  Envelopes travel as their text form
 * (envelope_dump / envelope_load, envelope.h).
 *
 * Field notation: u32, u64, int, str, data; [fd] when an fd travels.
 */
#ifndef SMTPD_PROTO_H
#define SMTPD_PROTO_H

enum imsg_type {
	IMSG_NONE,

	/* --- smtp -> lka: policy (peerid = session id) --- */
	IMSG_LKA_CONNECT,	/* u32 listener index, str client address,
				 * u32 client port, u32 is_local */
	IMSG_LKA_CONNECT_RESULT,/* u32 ok (1) or refused (0),
				 * str reply line when refused */
	IMSG_LKA_RCPT,		/* u32 listener index, str client address,
				 * u32 is_local, str auth user ("" none),
				 * str sender ("" for <>), str recipient,
				 * str listener tag ("" none) */
	IMSG_LKA_RCPT_RESULT,	/* u32 ok (1) / refused (0),
				 * str reply line when refused,
				 * u32 count, then count times:
				 *   str action name, str recipient after
				 *   alias/virtual expansion, str local user
				 *   ("" for relay actions) */
	IMSG_LKA_AUTH,		/* str table name, str user, str password */
	IMSG_LKA_AUTH_RESULT,	/* u32 ok (1) / bad (0) / tempfail (2) */
	IMSG_LKA_VRFY,		/* str address */
	IMSG_LKA_VRFY_RESULT,	/* str reply line */

	/* --- smtp -> queue: message store (peerid = session id) --- */
	IMSG_QUEUE_CREATE,	/* (no fields) */
	IMSG_QUEUE_CREATE_RESULT,/* u32 ok, u32 msgid, str reply if !ok;
				 * [fd: message file open for writing] */
	IMSG_QUEUE_ENVELOPE,	/* u32 msgid, str envelope text (id 0; the
				 * queue assigns it) */
	IMSG_QUEUE_COMMIT,	/* u32 msgid, u64 message size */
	IMSG_QUEUE_COMMIT_RESULT,/* u32 ok, str reply line ("250 2.0.0 ..."
				 * or "452 4.3.1 ...") */
	IMSG_QUEUE_ROLLBACK,	/* u32 msgid */
	IMSG_QUEUE_ETRN,	/* str domain */
	IMSG_QUEUE_DISKCHECK,	/* (no fields): is the spool above
				 * min-free-space? */
	IMSG_QUEUE_DISKCHECK_RESULT,/* u32 ok */

	/* --- queue -> mta / parent: deliveries --- */
	IMSG_MTA_DELIVER,	/* str envelope text; [fd: message, read] */
	IMSG_MDA_DELIVER,	/* str envelope text; [fd: message, read]
				 * (queue -> parent: local delivery) */
	/* --- mta / parent -> queue: results (peerid unused); each is
	 * followed by str hop (the remote host name, else address, that
	 * gave the final answer: bounces' Remote-MTA; "" for local
	 * deliveries and when no hop answered) and u32 remote_dsn (1: that
	 * hop offered DSN and NOTIFY was passed on, so a NOTIFY=SUCCESS
	 * notice is its business, not ours) --- */
	IMSG_QUEUE_DELIVERY_OK,		/* u64 evpid, str detail,
					 * str hop, u32 remote_dsn */
	IMSG_QUEUE_DELIVERY_TEMPFAIL,	/* u64 evpid, str error line,
					 * str hop, u32 remote_dsn */
	IMSG_QUEUE_DELIVERY_PERMFAIL,	/* u64 evpid, str error line,
					 * str hop, u32 remote_dsn */
	IMSG_QUEUE_DELIVERY_LOOP,	/* u64 evpid, str error line,
					 * str hop, u32 remote_dsn */

	/* --- mta -> lka: routes (peerid = request id) --- */
	IMSG_LKA_ROUTE,		/* str action name, str sender,
				 * str recipient */
	IMSG_LKA_ROUTE_RESULT,	/* u32 status (ROUTE_OK, ROUTE_TEMPFAIL,
				 * ROUTE_PERMFAIL), str error line,
				 * u32 count, then count times the hop:
				 *   str address (numeric), str host name
				 *   (for TLS name checks and logs),
				 *   u32 port, u32 tls (enum relay_tls),
				 *   u32 no_verify, str source address,
				 *   str label, str auth user, str auth
				 *   password, str helo, str ca file;
				 * then u32 random (1: mta shuffles the
				 * hops per message; common/route.h) */

	/* --- control -> others: requests (peerid = control client id)
	 * Answers come back as IMSG_CTL_REPLY (str text chunk, more follow)
	 * and end with IMSG_CTL_END (u32 ok, str message). --- */
	IMSG_CTL_SHOW_QUEUE,	/* u32 json */
	IMSG_CTL_SHOW_ENVELOPE,	/* u64 evpid, u32 json */
	IMSG_CTL_SHOW_MESSAGE,	/* u32 msgid */
	IMSG_CTL_SHOW_STATS,	/* u32 json */
	IMSG_CTL_SHOW_RELAYS,	/* u32 json */
	IMSG_CTL_SHOW_STATUS,	/* u32 json */
	IMSG_CTL_SHOW_ROUTE,	/* str address, str sender, str source ip,
				 * str auth user, u32 json */
	IMSG_CTL_SCHEDULE,	/* u64 evpid (0: all) */
	IMSG_CTL_REMOVE,	/* u64 evpid (0: all) */
	IMSG_CTL_PAUSE_ENVELOPE,/* u64 evpid (0: all) */
	IMSG_CTL_RESUME_ENVELOPE,/* u64 evpid (0: all) */
	IMSG_CTL_PAUSE,		/* str subsystem (smtp, mta, mda) */
	IMSG_CTL_RESUME,	/* str subsystem */
	IMSG_CTL_LOG_VERBOSE,	/* u32 level */
	IMSG_CTL_UPDATE_TABLE,	/* str table name */
	IMSG_CTL_RELOAD,	/* (no fields) */
	IMSG_CTL_REPLY,		/* str text */
	IMSG_CTL_END,		/* u32 ok, str message */
	IMSG_SMTP_ENQUEUE,	/* control -> smtp: u32 uid of the local
				 * caller; [fd: one end of a socketpair that
				 * speaks SMTP] -- a `from local` session
				 * (sendmail, smtpctl enqueue) */
	IMSG_STAT_INCR,		/* str counter name, int delta: any process
				 * -> control, which keeps the counters */

	/* --- parent -> smtp, queue, mta: a reload (smtpctl reload, SIGHUP)
	 * the parent has validated.  Each process applies what it is sent
	 * and answers IMSG_RELOAD_DONE; it cannot refuse (a bad message is
	 * fatal).  peerid unused. --- */
	IMSG_RELOAD_SMTP,	/* parent -> smtp: str hostname,
				 * u64 max_message_size, u32 max_rcpt,
				 * u32 max_hops, u32 vrfy, u32 etrn,
				 * u64 min_free_space, u32 max_sessions,
				 * u32 max_sessions_per_ip, u64 timeout,
				 * u64 timeout_data, u32 max_errors,
				 * u32 max_auth_failures; then the
				 * listeners follow */
	IMSG_RELOAD_LISTENER,	/* parent -> smtp, one per listener of the
				 * new file: u32 index, str name,
				 * data sockaddr, u32 port, u32 flags,
				 * str hostname, str tag, str auth table
				 * ("" none), str pki name ("" none),
				 * data cert, data key;
				 * [fd: a listening socket the parent just
				 * opened, or none: smtp keeps the one it
				 * has for this address and port] */
	IMSG_RELOAD_COMMIT,	/* parent -> smtp (no fields): the listener
				 * list is complete; smtp closes the ones
				 * not in it (their sessions go on) */
	IMSG_RELOAD_QUEUE,	/* parent -> queue: u64 queue_ttl,
				 * u64 queue_retry, u64 queue_retry_max,
				 * u64 bounce_warn_interval,
				 * u64 min_free_space, str hostname,
				 * str postmaster, u32 count, then count
				 * times: str action name, u32 method
				 * (enum action_method) */
	IMSG_RELOAD_MTA,	/* parent -> mta, one per CA file of a
				 * relay action: u32 more (1: another
				 * follows), str CA file path ("" in the
				 * single message sent when there is none),
				 * data its contents (empty if unreadable) */
	IMSG_RELOAD_DONE,	/* smtp, queue, mta -> parent (no fields):
				 * the new settings are in force */

	IMSG_TYPE_MAX
};

enum route_status {
	ROUTE_OK,
	ROUTE_TEMPFAIL,
	ROUTE_PERMFAIL,
	ROUTE_LOOP		/* a hop is ourselves: 5.4.6, bounce */
};

#endif
