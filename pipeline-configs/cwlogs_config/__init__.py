"""The pipeline-configs generator: one commons list in, every config out.

    python3 pipeline-configs/generate.py COMMONS.json --out DIR [--check]

Modules, one concern each:

    schema.py      the decoder's option names, defaults and bounds (decoder-options.json)
    model.py       the validated commons list (dataclasses) and the JSON reader
    load.py        reading and validating a commons list into that model
    yaml_text.py   hand-written YAML (Fluent Bit's untyped and Vector's typed flavours)
    fluent_bit.py  DIR/fluent-bit/fluent-bit.yaml
    front.py       DIR/front/nginx.conf and firehose.js, from templates/
    vector.py      DIR/vector/vector.yaml and its VRL options program
    aws.py         DIR/aws/*.template.json, CloudFormation for the CSOC and child accounts
    terraform.py   DIR/aws/terraform/, the module deploying those templates
    cli.py         the command line: render everything, write or --check

Standard library only (Python 3.11): the generator runs wherever the
configs are deployed from, without a virtual environment.
"""
