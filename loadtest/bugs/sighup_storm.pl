#!/usr/bin/env perl
# SIGHUP storm for the config bugs' scenarios (loadtest/bugs/cfg.sh).
#
#   sighup_storm.pl PID FILE INTERVAL_MS KIND COUNT_FILE
#
# For k = 1, 2, ... until PID is gone or this process gets SIGTERM: write
# the config file FILE for step k (to FILE.tmp, then rename, so that a
# reload never reads half a file), send SIGHUP to PID, write k to
# COUNT_FILE (the same way), sleep INTERVAL_MS. KIND says what step k is:
#
#   gen       config generation k by loadtest/README.md's convention:
#             timeout 3600+k, maxmemory 2^40+k
#   loglevel  loglevel verbose for even k, notice for odd k
#
# One small process with no fork per step: a storm written in shell forks
# mv and sleep every time and slows to a crawl on a busy machine (and
# Perl, unlike Python, starts in milliseconds there too).
use strict;
use warnings;

@ARGV == 5 or die "usage: sighup_storm.pl PID FILE INTERVAL_MS gen|loglevel COUNT_FILE\n";
my ($pid, $path, $interval_ms, $kind, $count) = @ARGV;
$kind eq 'gen' || $kind eq 'loglevel' or die "sighup_storm.pl: KIND is gen or loglevel\n";
$SIG{TERM} = sub { exit 0 };

sub put {
    my ($file, $text) = @_;
    open(my $fh, '>', "$file.tmp") or die "sighup_storm.pl: $file.tmp: $!\n";
    print $fh $text;
    close($fh) or die "sighup_storm.pl: $file.tmp: $!\n";
    rename("$file.tmp", $file) or die "sighup_storm.pl: $file: $!\n";
}

for (my $k = 1; ; $k++) {
    put($path, $kind eq 'gen'
        ? sprintf("timeout %d\nmaxmemory %d\n", 3600 + $k, 1099511627776 + $k)
        : sprintf("loglevel %s\n", $k % 2 == 0 ? 'verbose' : 'notice'));
    kill('HUP', $pid) or last;
    put($count, "$k\n");
    select(undef, undef, undef, $interval_ms / 1000);
}
