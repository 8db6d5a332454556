"""What the tutorial programs share: where the node is, and when a consumer may stop."""
import os

import pika


def parameters():
    return pika.ConnectionParameters(host=os.environ.get("AMQP_HOST", "localhost"),
                                     port=int(os.environ.get("AMQP_PORT", "5672")),
                                     credentials=pika.PlainCredentials(os.environ.get("AMQP_USER", "guest"),
                                                                       os.environ.get("AMQP_PASSWORD", "guest")))


EXPECT = int(os.environ.get("EXPECT", "0"))
IDLE_S = float(os.environ.get("IDLE_S", "30"))
