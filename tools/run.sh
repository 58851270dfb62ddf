#!/bin/sh
# `make run`: the daemon in the foreground on the shipped default config.
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
mkdir -p run
exec ./obj/smtpd -d -f etc/smtpd.conf -D "top=$top"
