cat <<'EOF' > a.txt
hello $USER
EOF