#!/usr/bin/env python3
"""Tutorial one, the consumer: prints what arrives on 'hello' (automatic acknowledgement)."""
import pika

from common import parameters, EXPECT, IDLE_S

connection = pika.BlockingConnection(parameters())
channel = connection.channel()
channel.queue_declare(queue='hello')
received = 0

def callback(ch, method, properties, body):
    global received
    received += 1
    print(f" [x] Received {body.decode()}", flush=True)

channel.basic_consume(queue='hello', on_message_callback=callback, auto_ack=True)
print(' [*] Waiting for messages.', flush=True)
# The tutorial's start_consuming(), until EXPECT messages arrived or none for IDLE_S seconds.
while EXPECT == 0 or received < EXPECT:
    before = received
    connection.process_data_events(time_limit=IDLE_S)
    if received == before:
        break
connection.close()
