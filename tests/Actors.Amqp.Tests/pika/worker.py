#!/usr/bin/env python3
"""Tutorial two, the worker: one task at a time (prefetch_count=1), acknowledged after the work is done."""
import os
import time

import pika

from common import parameters, Consuming

connection = pika.BlockingConnection(parameters())
channel = connection.channel()
channel.queue_declare(queue='task_queue', durable=True)
print(' [*] Waiting for messages.', flush=True)
work_s = float(os.environ.get("WORK_S", "0"))
consuming = Consuming(connection)

def callback(ch, method, properties, body):
    print(f" [x] Received {body.decode()}", flush=True)
    time.sleep(work_s)  # the tutorial's simulated work (a dot a second there)
    print(f" [x] Done {body.decode()}", flush=True)
    ch.basic_ack(delivery_tag=method.delivery_tag)
    consuming.arrived()

channel.basic_qos(prefetch_count=1)
channel.basic_consume(queue='task_queue', on_message_callback=callback)
consuming.run()  # the tutorial's channel.start_consuming(), with an end
connection.close()
