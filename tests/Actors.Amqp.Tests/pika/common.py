"""What the tutorial programs share: where the node is, and when a consumer may stop."""
import os
import time

import pika


def parameters():
    return pika.ConnectionParameters(host=os.environ.get("AMQP_HOST", "localhost"),
                                     port=int(os.environ.get("AMQP_PORT", "5672")),
                                     credentials=pika.PlainCredentials(os.environ.get("AMQP_USER", "guest"),
                                                                       os.environ.get("AMQP_PASSWORD", "guest")))


EXPECT = int(os.environ.get("EXPECT", "0"))
IDLE_S = float(os.environ.get("IDLE_S", "30"))


class Consuming:
    """The tutorials' start_consuming(), with an end: until `expect` messages arrived (0: no count), or none for
    IDLE_S seconds. process_data_events returns after any I/O (a heartbeat too), so the idle time is measured here."""

    def __init__(self, connection, expect=EXPECT):
        self.connection, self.expect, self.received = connection, expect, 0

    def arrived(self):
        self.received += 1
        self.last = time.monotonic()

    def run(self):
        self.last = time.monotonic()
        while (self.expect == 0 or self.received < self.expect) and time.monotonic() - self.last < IDLE_S:
            self.connection.process_data_events(time_limit=1)
