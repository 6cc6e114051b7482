# %preun of tappass: Fedora's %systemd_preun. $1 is the number of tappass packages left after
# this transaction: 0 on erase, 1 on an upgrade (then nothing is stopped; %postun restarts).
if [ "$1" -eq 0 ]; then
    # Erase: disable and stop every unit, the optional socket included (the static probe
    # service has nothing to disable, only a run to stop).
    systemctl --no-reload disable --now tappass.service tappass-health.timer tappass-backup.timer \
        tappass.socket >/dev/null 2>&1 || :
    systemctl --no-reload stop tappass-health.service tappass-backup.service >/dev/null 2>&1 || :
fi
exit 0
