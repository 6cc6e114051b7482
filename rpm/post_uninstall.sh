# %postun of tappass: the daemon-reload of Fedora's systemd file triggers (the unit files are
# gone, or replaced on an upgrade), then Fedora's %systemd_postun_with_restart: on an upgrade
# ($1 >= 1) restart tappass.service if it is running, so that the new binary serves. The state
# in /var/lib/private/tappass is kept on erase, as Fedora packages do (remove it by hand).
systemctl daemon-reload >/dev/null 2>&1 || :

if [ "$1" -ge 1 ]; then
    systemctl try-restart tappass.service >/dev/null 2>&1 || :
fi

exit 0
