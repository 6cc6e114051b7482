# %postun of tappass: the daemon-reload of Fedora's systemd file triggers (the unit files are
# gone, or replaced on an upgrade), then Fedora's %systemd_postun_with_restart: on an upgrade
# ($1 >= 1) restart tappass.service if it is running, so that the new binary serves. The state
# in /var/lib/private/tappass is kept on erase, as Fedora packages do (remove it by hand).
systemctl daemon-reload >/dev/null 2>&1 || :

if [ "$1" -ge 1 ]; then
    systemctl try-restart tappass.service >/dev/null 2>&1 || :
fi

# Erase: cargo-generate-rpm cannot make the package own its directories, so rpm leaves them
# behind; remove the ones that are empty now (an edited tappass.toml stays as tappass.toml.rpmsave,
# and with it /etc/tappass).
if [ "$1" -eq 0 ]; then
    rmdir /usr/share/doc/tappass/examples /usr/share/doc/tappass \
        /etc/tappass/policies /etc/tappass >/dev/null 2>&1 || :
fi
exit 0
