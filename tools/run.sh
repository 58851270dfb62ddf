#!/bin/sh
# `make run`: the daemon in the foreground on the shipped default config,
# with queue, control socket, mail and logs under ./run/.
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
mkdir -p run/mail
chmod 755 run
# Deliveries run as the recipient user: each makes its own maildir here.
chmod 1777 run/mail
sed "s|@TOP@|$top|g" etc/smtpd.conf > run/smtpd.conf
echo "smtpd: config run/smtpd.conf, listening on 127.0.0.1:2525; ^C stops"
exec ./obj/smtpd -d -f run/smtpd.conf 2>&1 | tee -a run/smtpd.log
