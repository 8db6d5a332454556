# Tutorial two's worker: prefetch_count=1 and a manual ack after each task; stops after the number of tasks it is told.
import sys
import pika

port, expected = int(sys.argv[1]), int(sys.argv[2])
connection = pika.BlockingConnection(pika.ConnectionParameters(host="localhost", port=port))
channel = connection.channel()
channel.queue_declare(queue="task_queue", durable=True)
channel.basic_qos(prefetch_count=1)
done = []

def callback(ch, method, properties, body):
    done.append(body.decode())
    ch.basic_ack(delivery_tag=method.delivery_tag)
    if len(done) == expected:
        ch.stop_consuming()

channel.basic_consume(queue="task_queue", on_message_callback=callback)
channel.start_consuming()
print(" [x] Done %d distinct %d" % (len(done), len(set(done))))
connection.close()
