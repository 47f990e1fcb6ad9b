"""Shared by the seeded trace generators (examples/traces, examples/routing): request sizes,
arrival times over a business day, and the CSV that `bin/tokenbudget simulate` reads."""
import datetime
import math
import random

# relative traffic per hour of the day (UTC): business hours, a lunch dip, quiet nights
HOURS = [0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.6, 2.0, 2.0, 1.9, 1.7, 1.5, 1.8, 1.9, 1.8, 1.5, 1.1, 0.8, 0.6, 0.5,
         0.4, 0.3, 0.2]


class Traffic:
    """A deterministic source of traffic: the same seed gives the same trace."""

    def __init__(self, seed):
        self.rnd = random.Random(seed)

    def lognormal(self, mean, sd_log):
        """A positive number with the given mean, spread sd_log on the log scale."""
        return mean * math.exp(self.rnd.gauss(0, sd_log) - sd_log * sd_log / 2)

    def moments(self, day, n):
        """n timestamps within the day, drawn from the hourly profile, sorted."""
        total = sum(HOURS)
        out = []
        for _ in range(n):
            x = self.rnd.random() * total
            h = 0
            while x > HOURS[h]:
                x -= HOURS[h]
                h += 1
            out.append(datetime.datetime.combine(day, datetime.time(h))
                       + datetime.timedelta(seconds=self.rnd.randrange(3600)))
        return sorted(out)


def print_csv(rows):
    """Rows (time, key, feature, model, input, output, max_tokens) in time order, as a trace CSV."""
    rows.sort(key=lambda r: r[0])
    print("timestamp,key,feature,model,input_tokens,output_tokens,max_tokens")
    for t, key, feature, model, inp, out, mx in rows:
        print(f"{t.isoformat()}Z,{key},{feature},{model},{inp},{out},{mx}")
