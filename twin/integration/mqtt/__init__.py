"""MQTT for SensorThings (OGC 18-088 §14): store observations devices publish, re-publish committed ones.

- `consumer.ObservationConsumer` subscribes (QoS 1, persistent MQTT 5 session, shared subscription
  `$share/<group>/v1.1/...` so each message is stored by one worker) and acknowledges a message
  only after its observations are committed.
- `publisher.ObservationPublisher` publishes every committed new observation on
  `v1.1/Datastreams(<id>)/Observations` with the MQTT 5 user property `origin=parktwin`; the
  consumer skips messages carrying it, so the service never re-ingests its own publications.
"""
